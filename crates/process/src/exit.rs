//! How a worker process ended, in words: "exit code 3", "signal 6 (SIGABRT)".

use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

/// Describes an exit status the way the pool's crash errors say it.
pub(crate) fn describe(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exit code {code}");
    }
    match status.signal() {
        Some(signal) => {
            let core = if status.core_dumped() {
                ", core dumped"
            } else {
                ""
            };
            match signal_name(signal) {
                Some(name) => format!("signal {signal} ({name}{core})"),
                None => format!("signal {signal}{core}"),
            }
        }
        None => format!("{status}"),
    }
}

/// The name of a Linux signal number.
pub(crate) fn signal_name(signal: i32) -> Option<&'static str> {
    const NAMES: [&str; 31] = [
        "SIGHUP",
        "SIGINT",
        "SIGQUIT",
        "SIGILL",
        "SIGTRAP",
        "SIGABRT",
        "SIGBUS",
        "SIGFPE",
        "SIGKILL",
        "SIGUSR1",
        "SIGSEGV",
        "SIGUSR2",
        "SIGPIPE",
        "SIGALRM",
        "SIGTERM",
        "SIGSTKFLT",
        "SIGCHLD",
        "SIGCONT",
        "SIGSTOP",
        "SIGTSTP",
        "SIGTTIN",
        "SIGTTOU",
        "SIGURG",
        "SIGXCPU",
        "SIGXFSZ",
        "SIGVTALRM",
        "SIGPROF",
        "SIGWINCH",
        "SIGIO",
        "SIGPWR",
        "SIGSYS",
    ];
    usize::try_from(signal)
        .ok()
        .and_then(|n| n.checked_sub(1))
        .and_then(|i| NAMES.get(i).copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_and_signals_are_named() {
        assert_eq!(describe(ExitStatus::from_raw(3 << 8)), "exit code 3");
        assert_eq!(describe(ExitStatus::from_raw(6)), "signal 6 (SIGABRT)");
        assert_eq!(describe(ExitStatus::from_raw(11)), "signal 11 (SIGSEGV)");
        assert_eq!(describe(ExitStatus::from_raw(9)), "signal 9 (SIGKILL)");
        assert_eq!(
            describe(ExitStatus::from_raw(6 | 0x80)),
            "signal 6 (SIGABRT, core dumped)"
        );
        assert_eq!(signal_name(31), Some("SIGSYS"));
        assert_eq!(signal_name(0), None);
        assert_eq!(signal_name(64), None);
    }
}
