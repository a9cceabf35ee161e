//! `ferrite completions <shell>` and `ferrite man [--dir DIR]`: the CLI describing itself
//! (clap_complete, clap_mangen), from the same clap definition that parses the arguments.
use super::error::{fail, usage};
use std::path::PathBuf;
use std::process::ExitCode;

pub const COMPLETION_EXAMPLES: &str = "\
Examples:
  ferrite completions bash > ~/.local/share/bash-completion/completions/ferrite
  ferrite completions zsh > ~/.zfunc/_ferrite      # with fpath+=(~/.zfunc) in ~/.zshrc
  ferrite completions fish > ~/.config/fish/completions/ferrite.fish";

pub const MAN_EXAMPLES: &str = "\
Examples:
  ferrite man | man -l -
  ferrite man --dir ~/.local/share/man/man1       # ferrite.1, ferrite-build.1, ...";

#[derive(clap::Args)]
pub struct CompletionArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(clap::Args)]
pub struct ManArgs {
    /// Write `ferrite.1` and one page per subcommand (`ferrite-build.1`, ...) into DIR
    /// (created if missing) instead of printing `ferrite.1` to stdout.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

pub fn completions(args: CompletionArgs, mut cmd: clap::Command) -> anyhow::Result<ExitCode> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "ferrite", &mut script);
    super::ui::write_bytes(&script)
        .map_err(|e| usage(format!("cannot write the completions: {e}"), "check stdout"))?;
    Ok(ExitCode::SUCCESS)
}

pub fn man(args: ManArgs, cmd: clap::Command) -> anyhow::Result<ExitCode> {
    match &args.dir {
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(cmd)
                .render(&mut page)
                .map_err(|e| usage(format!("cannot render the man page: {e}"), "report it"))?;
            super::ui::write_bytes(&page)
                .map_err(|e| usage(format!("cannot write the man page: {e}"), "check stdout"))?;
        }
        Some(dir) => {
            let help = "give --dir a folder you can write to (it is created if missing)";
            std::fs::create_dir_all(dir)
                .map_err(|e| fail(e, "cannot create the man page folder", dir, help))?;
            clap_mangen::generate_to(cmd, dir)
                .map_err(|e| fail(e, "cannot write the man pages", dir, help))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
