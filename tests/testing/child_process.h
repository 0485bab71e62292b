// SpawnWithStdoutPipe: starts a program whose standard output the test reads line by
// line, so crash tests can learn what a writer acknowledged before SIGKILLing it.
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

namespace custos::testing {

struct ChildProcess {
  pid_t pid = -1;
  FILE* out = nullptr;  // the child's standard output; nullptr if the pipe failed
};

// Runs args[0] with `args` as its argv and `env` added to its environment.
inline ChildProcess SpawnWithStdoutPipe(
    const std::vector<std::string>& args,
    const std::vector<std::pair<std::string, std::string>>& env = {}) {
  int fds[2];
  if (::pipe(fds) != 0) return {};
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::close(fds[0]);
    ::close(fds[1]);
    for (const auto& [name, value] : env) ::setenv(name.c_str(), value.c_str(), 1);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  return {pid, ::fdopen(fds[0], "r")};
}

}  // namespace custos::testing
