#include <pulse/pulse.hpp>
#include <cstdio>
pulse::task<int> answer() { co_return 42; }
int main() { int v = pulse::sync_wait(answer()); std::printf("consumer: %d\n", v); return v == 42 ? 0 : 1; }
