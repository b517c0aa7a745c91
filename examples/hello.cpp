// hello: tasks are lazy coroutines; sync_wait runs one on the default runtime and returns its
// result; an exception thrown inside comes back out of co_await, and out of sync_wait.
#include <pulse/pulse.hpp>

#include <cstdio>
#include <stdexcept>
#include <string>

namespace {

pulse::task<std::string> greeting(std::string name) { co_return "hello, " + name; }

pulse::task<int> parse_port(std::string text) {
  const int port = std::stoi(text);
  if (port <= 0 || port > 65535) {
    throw std::out_of_range("port " + text + " is out of range");
  }
  co_return port;
}

pulse::task<void> main_task() {
  std::printf("%s\n", (co_await greeting("pulse")).c_str());
  std::printf("port %d\n", co_await parse_port("8080"));
  try {
    co_await parse_port("99999");
  } catch (const std::out_of_range& e) {
    std::printf("caught inside the task: %s\n", e.what());
  }
}

}  // namespace

int main() {
  pulse::sync_wait(main_task());
  try {
    pulse::sync_wait(parse_port("-1"));
  } catch (const std::exception& e) {
    std::printf("caught from sync_wait: %s\n", e.what());
  }
  std::printf("the default runtime has %u workers\n", pulse::default_runtime().worker_count());
}
