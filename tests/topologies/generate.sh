#!/usr/bin/env bash
# Regenerates the machines in this folder, which tests/test_placement.cpp loads with hwloc. Needs
# lstopo-no-graphics (Debian's hwloc package); the tests themselves need only libhwloc. Output is
# committed, so run this only to change a machine.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

# Two sockets of 32 cores with SMT2, numbered as Linux numbers them: the first threads of all cores
# are CPUs 0-63, their SMT siblings 64-127 (so CPU 0's sibling is CPU 64). One NUMA node and one
# L3 per socket, an L2 per core.
indexes=$(python3 -c "print(','.join(str(t * 64 + p * 32 + c) for p in range(2) for c in range(32) for t in range(2)))")
lstopo-no-graphics -i "pack:2 numa:1 l3:1(size=48MiB) l2:32(size=2MiB) l1d:1(size=48KiB) core:1 pu:2(indexes=$indexes)" \
  --of xml --force two_socket_smt2.xml

# Four NUMA nodes (two per socket), each with two L3s of four cores (like AMD's CCXs), SMT2 with
# siblings next to each other.
lstopo-no-graphics -i "pack:2 numa:2 l3:2(size=16MiB) l2:4(size=512KiB) l1d:1(size=32KiB) core:1 pu:2" \
  --of xml --force four_numa_nodes.xml

# A hybrid part (like a Core i7-12700H): six P-cores with SMT2 and an L2 each (CPUs 0-11), then
# eight E-cores (CPUs 12-19) in two clusters of four that share an L2; one L3. hwloc's synthetic
# topologies cannot mix core kinds, so this one is written out, with the cpukind records that
# Linux's hwloc would find.
python3 - <<'PY' >hybrid_6p8e.xml
gp = iter(range(1, 1000))
def mask(cpus):
    return "0x%08x" % sum(1 << c for c in cpus)
def obj(kind, cpus, extra="", children=""):
    sets = f'cpuset="{mask(cpus)}" complete_cpuset="{mask(cpus)}" nodeset="0x00000001" complete_nodeset="0x00000001"'
    body = f">\n{children}</object>\n" if children else "/>\n"
    return f'<object type="{kind}" {extra}{sets} gp_index="{next(gp)}"{body}'
def cache(level, size, cpus, children, data=False):
    return obj(f"L{level}Cache", cpus, f'cache_size="{size}" depth="{level}" cache_linesize="64" '
               f'cache_associativity="0" cache_type="{1 if data else 0}" ', children)
def core(index, cpus, l1d):
    pus = "".join(obj("PU", [c], f'os_index="{c}" ') for c in cpus)
    return cache(1, l1d, cpus, obj("Core", cpus, f'os_index="{index}" ', pus), data=True)
p_cores = "".join(cache(2, 1280 << 10, [2 * i, 2 * i + 1], core(i, [2 * i, 2 * i + 1], 48 << 10)) for i in range(6))
e_clusters = "".join(
    cache(2, 2 << 20, list(range(12 + 4 * k, 16 + 4 * k)),
          "".join(core(6 + 4 * k + j, [12 + 4 * k + j], 32 << 10) for j in range(4)))
    for k in range(2))
every = list(range(20))
l3 = cache(3, 24 << 20, every, p_cores + e_clusters)
node = obj("NUMANode", every, 'os_index="0" local_memory="17179869184" ')
package = obj("Package", every, 'os_index="0" ', l3)
machine = obj("Machine", every, f'os_index="0" allowed_cpuset="{mask(every)}" allowed_nodeset="0x00000001" ',
              node + package)
print('<?xml version="1.0" encoding="UTF-8"?>')
print('<!DOCTYPE topology SYSTEM "hwloc2.dtd">')
print('<topology version="2.0">')
print(machine, end="")
print(f'<cpukind cpuset="{mask(range(12, 20))}" forced_efficiency="0">\n<info name="CoreType" value="IntelAtom"/>\n</cpukind>')
print(f'<cpukind cpuset="{mask(range(12))}" forced_efficiency="1">\n<info name="CoreType" value="IntelCore"/>\n</cpukind>')
print('</topology>')
PY
# Round-trip it through hwloc: proves hwloc accepts it, and writes it in hwloc's own layout.
lstopo-no-graphics -i hybrid_6p8e.xml --of xml --force hybrid_6p8e.xml
