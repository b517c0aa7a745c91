// Sets or clears an environment variable for one test and restores it afterwards: for the
// variables pulse reads when a runtime starts (PULSE_WORKERS, PULSE_PIN).
#pragma once

#include <cstdlib>
#include <string>

namespace pulse_test {

class scoped_env {
public:
  // A null `value` unsets the variable.
  scoped_env(const char* name, const char* value) : m_name(name) {
    if (const char* old = std::getenv(name)) {
      m_saved = old;
      m_had_value = true;
    }
    if (value != nullptr) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~scoped_env() {
    if (m_had_value) {
      ::setenv(m_name.c_str(), m_saved.c_str(), 1);
    } else {
      ::unsetenv(m_name.c_str());
    }
  }
  scoped_env(const scoped_env&) = delete;
  scoped_env& operator=(const scoped_env&) = delete;

private:
  std::string m_name;
  std::string m_saved;
  bool m_had_value = false;
};

}  // namespace pulse_test
