// login and logout: credentials checked against the registry, kept in docker's config file.
#include <termios.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "cli/guise/context.h"
#include "cli/guise/transfer.h"

namespace guise::cli {

namespace {

struct LoginFlags {
  std::string server, username, password;
  bool password_stdin = false;
  RegistryFlags registry;
};

// "https://host:5000/" → "host:5000"; no server → docker.io.
std::string server_domain(std::string s) {
  for (const char* scheme : {"https://", "http://"})
    if (s.rfind(scheme, 0) == 0) s = s.substr(std::string(scheme).size());
  while (!s.empty() && s.back() == '/') s.pop_back();
  if (s.empty() || s == "index.docker.io/v1" || s == "index.docker.io" || s == "registry-1.docker.io")
    return "docker.io";
  return s.substr(0, s.find('/'));
}

std::string prompt(const char* what, bool echo) {
  std::fprintf(stderr, "%s", what);
  termios old {};
  bool tty = ::isatty(STDIN_FILENO) && ::tcgetattr(STDIN_FILENO, &old) == 0;
  if (tty && !echo) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string line;
  std::getline(std::cin, line);
  if (tty && !echo) {
    ::tcsetattr(STDIN_FILENO, TCSANOW, &old);
    std::fprintf(stderr, "\n");
  }
  return line;
}

void login(Context& ctx, LoginFlags f) {
  std::string domain = server_domain(f.server);
  if (f.password_stdin) {
    if (!f.password.empty()) return ctx.fail("--password and --password-stdin are mutually exclusive");
    if (f.username.empty()) return ctx.fail("Must provide --username with --password-stdin");
    std::getline(std::cin, f.password);
    while (!f.password.empty() && (f.password.back() == '\n' || f.password.back() == '\r')) f.password.pop_back();
  } else if (!f.password.empty()) {
    std::fprintf(stderr, "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n");
  }
  if (f.username.empty()) f.username = prompt("Username: ", true);
  if (f.password.empty()) f.password = prompt("Password: ", false);
  if (f.username.empty()) return ctx.fail("Username is required");
  if (f.password.empty()) return ctx.fail("Password is required");
  auto opts = f.registry.options();
  if (!opts) return ctx.fail(opts.error());
  opts->credentials = image::Credentials{f.username, f.password};
  auto client = image::RegistryClient::connect(domain, *opts);
  if (!client) return ctx.fail(client.error());
  auto ping = (*client)->ping();
  if (!ping) return ctx.fail(ping.error());
  std::string file = f.registry.authfile.empty() ? image::default_auth_file() : f.registry.authfile;
  auto stored = image::store_credentials(file, domain, *opts->credentials);
  if (!stored) return ctx.fail(stored.error());
  std::fprintf(stderr, "WARNING! Your password will be stored unencrypted in %s.\n", file.c_str());
  std::printf("Login Succeeded\n");
}

void logout(Context& ctx, const LoginFlags& f) {
  std::string domain = server_domain(f.server);
  std::string file = f.registry.authfile.empty() ? image::default_auth_file() : f.registry.authfile;
  auto removed = image::erase_credentials(file, domain);
  if (!removed) return ctx.fail(removed.error());
  if (*removed)
    std::printf("Removing login credentials for %s\n", domain.c_str());
  else
    std::printf("Not logged in to %s\n", domain.c_str());
}

}  // namespace

void register_login_commands(CLI::App& app, Context& ctx) {
  static LoginFlags lf;
  auto* c = app.add_subcommand("login", "Log in to a registry");
  c->add_option("SERVER", lf.server, "registry (default docker.io)");
  c->add_option("-u,--username", lf.username, "user name");
  c->add_option("-p,--password", lf.password, "password (prefer --password-stdin)");
  c->add_flag("--password-stdin", lf.password_stdin, "read the password from standard input");
  lf.registry.add_to(*c);
  c->callback([&ctx] {
    if (have_transfer_code(ctx)) login(ctx, lf);
  });
  auto* o = app.add_subcommand("logout", "Log out from a registry");
  o->add_option("SERVER", lf.server, "registry (default docker.io)");
  o->add_option("--authfile", lf.registry.authfile, "credentials file (docker's config.json format)");
  o->callback([&ctx] { logout(ctx, lf); });
}

}  // namespace guise::cli
