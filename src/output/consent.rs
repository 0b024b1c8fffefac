//! Asking the person at the terminal before a marketplace's command runs, in Claude Code's
//! words: the command is shown on stdout, then accepted by `-y/--yes`, by `--accept-command`
//! naming what was shown, or at a `[y/N]` prompt when stdin and stdout are a terminal.

use std::io::{BufRead, IsTerminal};
use std::sync::Mutex;

use crate::ops::consent::{Answer, CommandReview, ShownCommand};

pub struct TerminalReview {
    pub yes: bool,
    pub accept_command: Option<String>,
    /// One question at a time (updates work on several plugins at once).
    turn: Mutex<()>,
}

impl TerminalReview {
    pub fn new(yes: bool, accept_command: Option<String>) -> Self {
        Self {
            yes,
            accept_command,
            turn: Mutex::new(()),
        }
    }
}

impl CommandReview for TerminalReview {
    fn review(&self, shown: &ShownCommand, disclosure: &str) -> Answer {
        let _turn = self.turn.lock().unwrap_or_else(|e| e.into_inner());
        super::stdio::stdout(format_args!("{disclosure}"));
        let named = (self.accept_command.as_deref()).is_some_and(|h| shown.named_by(h));
        if self.yes || named {
            return Answer::Accepted;
        }
        let terminal = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
        if !terminal {
            let why = match self.accept_command {
                Some(_) => {
                    "--accept-command does not name the command shown above (it may have changed since it was shown), so it was not run. Show it to the person again before accepting it."
                }
                None => {
                    "Not an interactive terminal, so the command was only displayed, not accepted. Re-run in a terminal to confirm it, or pass -y/--yes to accept the command shown above."
                }
            };
            println!("{why}");
            return Answer::Unconfirmed;
        }
        print!("Run this command now? [y/N] ");
        super::stdio::flush_stdout();
        let mut line = String::new();
        if std::io::stdin().lock().read_line(&mut line).is_err() {
            return Answer::Declined;
        }
        match line.trim().to_ascii_lowercase().as_str() {
            "y" | "yes" => Answer::Accepted,
            _ => Answer::Declined,
        }
    }
}
