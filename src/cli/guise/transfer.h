// One command line, two executables. `guise` links neither libcurl nor libarchive: with
// them came some forty shared objects (gnutls, krb5, ldap, ICU, xml2, ...) whose loading
// and relocation were most of the time `guise run`, `ps` or `inspect` took to start
// (bench/results/ENGINE-RUN-PROFILE.md, finding 1). `guise-full`, installed beside it,
// is the same program with everything linked.
//
// The commands that move images or trees through them (pull, push, login, save, load,
// import, export, cp, commit, and run/create when the image must be pulled) call
// need_transfer_code first, before they have read stdin, printed, locked or made
// anything: in guise-full it returns at once; in guise it execs guise-full with this
// process's own argv and environment, which then does the whole command.
#pragma once

#include "cli/guise/context.h"
#include "sys/result.h"

namespace guise::cli {

// Ok in guise-full (transfer_linked.cc). In guise (transfer_reexec.cc) it execs
// $GUISE_FULL, else guise-full beside this executable, else /usr/local/bin/guise-full,
// and so returns only that exec's error.
Result<void> need_transfer_code(const Context& ctx);

// For a command's callback: whether it goes on in this process, i.e. true in guise-full;
// a failed exec is reported (ctx.fail) and false.
bool have_transfer_code(Context& ctx);

}  // namespace guise::cli
