// Must not compile: a promotion policy's members are noexcept (a worker calls them from its
// scheduling loop, where no caller could receive an exception), so an override that may throw is
// refused. The PULSE_CONTROL build declares it noexcept and must compile.
#include <pulse/promotion.hpp>

#ifdef PULSE_CONTROL
#  define PULSE_POLICY_NOEXCEPT noexcept
#else
#  define PULSE_POLICY_NOEXCEPT
#endif

struct eager_policy final : pulse::promotion_policy {
  std::size_t should_promote(const pulse::heartbeat_sample& sample) PULSE_POLICY_NOEXCEPT override {
    return sample.latent;
  }
};

int main() {
  eager_policy policy;
  return policy.should_promote({}) == 0 ? 0 : 1;
}
