// Umbrella header: everything a pulse user names.
#pragma once

#include <pulse/fork.hpp>
#include <pulse/io.hpp>
#include <pulse/net.hpp>
#include <pulse/parallel.hpp>
#include <pulse/pcall.hpp>
#include <pulse/promotion.hpp>
#include <pulse/runtime.hpp>
#include <pulse/spawn.hpp>
#include <pulse/stats.hpp>
#include <pulse/sync_wait.hpp>
#include <pulse/task.hpp>
#include <pulse/topology.hpp>
