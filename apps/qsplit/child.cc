#include "child.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

namespace qsplit::cli {
namespace {

std::atomic<int> g_signal{0};
std::atomic<bool> g_from_process{false};
extern "C" void onSignal(int sig, siginfo_t* info, void*) {
  // A terminal's Ctrl-C reaches the whole foreground process group, the command included; a
  // kill() reaches qsplit alone and must be passed on.
  g_from_process = info && info->si_code == SI_USER;
  g_signal = sig;
}

}  // namespace

void catchSignals() {
  struct sigaction action {};
  action.sa_sigaction = onSignal;
  action.sa_flags = SA_SIGINFO;
  sigemptyset(&action.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &action, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

int pendingSignal() { return g_signal.load(); }
bool signalFromProcess() { return g_from_process.load(); }
void clearSignal() { g_signal = 0; }

Result<pid_t> startChild(const std::vector<std::string>& args,
                         const std::map<std::string, std::string>& env) {
  if (args.empty()) return fail(ErrorCode::kInvalidArgument, "no command given after --");
  // A pipe closed on exec tells the parent whether exec worked, so a typo is an error here.
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0)
    return fail(ErrorCode::kInternal, std::string("pipe: ") + std::strerror(errno));
  // Until the child has its default handlers back, a signal passed on to it would run qsplit's
  // handler there and be lost; blocked, it waits and then acts as on the command itself.
  sigset_t caught, before;
  sigemptyset(&caught);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&caught, sig);
  sigprocmask(SIG_BLOCK, &caught, &before);
  pid_t pid = fork();
  if (pid != 0) sigprocmask(SIG_SETMASK, &before, nullptr);
  if (pid < 0) return fail(ErrorCode::kInternal, std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    close(fds[0]);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) sigaction(sig, &dfl, nullptr);
    sigprocmask(SIG_SETMASK, &before, nullptr);
    for (const auto& [name, value] : env) setenv(name.c_str(), value.c_str(), 1);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    int error = errno;
    (void)!write(fds[1], &error, sizeof error);
    _exit(127);
  }
  close(fds[1]);
  int error = 0;
  ssize_t n;
  do n = read(fds[0], &error, sizeof error);  // a signal now must not hide a failed exec
  while (n < 0 && errno == EINTR);
  close(fds[0]);
  if (n == sizeof error) {
    waitpid(pid, nullptr, 0);
    return fail(ErrorCode::kInvalidArgument, "cannot run " + args[0] + ": " + std::strerror(error));
  }
  return pid;
}

std::optional<int> reap(pid_t pid) {
  int status = 0;
  if (waitpid(pid, &status, WNOHANG) == pid) return status;
  return std::nullopt;
}

int stopChild(pid_t pid, std::chrono::milliseconds grace) {
  kill(pid, SIGTERM);
  auto until = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < until) {
    if (auto status = reap(pid)) return *status;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

int exitCode(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

}  // namespace qsplit::cli
