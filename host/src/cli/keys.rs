//! `corral keys generate`, and reading keys and passphrases for the
//! commands that sign and verify.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use corral::distribution::{SigningKey, VerifyingKey};

/// The passphrase variable for private keys (cosign's own is read too).
pub const PASSWORD_ENV: &str = "CORRAL_KEY_PASSWORD";
const COSIGN_PASSWORD_ENV: &str = "COSIGN_PASSWORD";

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Write a new ECDSA P-256 key pair in cosign's formats: DIR/corral.key
    /// (encrypted with $CORRAL_KEY_PASSWORD, which may be empty, or a
    /// passphrase asked for on the terminal) and DIR/corral.pub.
    Generate(GenerateArgs),
}

#[derive(Args)]
pub struct GenerateArgs {
    /// Where to write corral.key and corral.pub.
    #[arg(long, default_value = ".")]
    out: PathBuf,
    /// Overwrite existing key files.
    #[arg(long)]
    force: bool,
}

pub fn keys(command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Generate(args) => generate(args),
    }
}

fn generate(args: GenerateArgs) -> anyhow::Result<()> {
    let private = args.out.join("corral.key");
    let public = args.out.join("corral.pub");
    for file in [&private, &public] {
        if file.exists() && !args.force {
            bail!("{} exists; pass --force to overwrite it", file.display());
        }
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let password = passphrase(true)?;
    let key = SigningKey::generate()?;
    write_private(&private, &key.to_encrypted_pem(password.as_bytes())?)?;
    std::fs::write(&public, key.public().to_pem())
        .with_context(|| format!("writing {}", public.display()))?;
    println!("Private key written to {}", private.display());
    println!("Public key written to {}", public.display());
    println!("Signer: {}", key.public().signer());
    Ok(())
}

/// Write a private key readable by its owner only.
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let _ = std::fs::remove_file(path);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(text.as_bytes())?;
    Ok(())
}

/// Read and decrypt a private key file.
pub fn signing_key(path: &Path) -> anyhow::Result<SigningKey> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the key {}", path.display()))?;
    let password = passphrase(false)?;
    SigningKey::from_encrypted_pem(&text, password.as_bytes())
        .with_context(|| format!("reading the key {}", path.display()))
}

/// Read a public key file.
pub fn verifying_key(path: &Path) -> anyhow::Result<VerifyingKey> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the public key {}", path.display()))?;
    VerifyingKey::from_pem(&text)
        .with_context(|| format!("reading the public key {}", path.display()))
}

/// The key passphrase: from the environment, else asked on the terminal
/// (twice when `confirm`).
fn passphrase(confirm: bool) -> anyhow::Result<String> {
    for name in [PASSWORD_ENV, COSIGN_PASSWORD_ENV] {
        if let Ok(value) = std::env::var(name) {
            return Ok(value);
        }
    }
    if !std::io::stdin().is_terminal() {
        bail!("no passphrase: set {PASSWORD_ENV} (it may be empty) or run on a terminal");
    }
    let first = ask_hidden("Passphrase for the private key: ")?;
    if confirm && ask_hidden("Again: ")? != first {
        bail!("the passphrases differ");
    }
    Ok(first)
}

/// Read a line from the terminal without echoing it.
fn ask_hidden(prompt: &str) -> anyhow::Result<String> {
    use std::io::BufRead;
    use std::os::fd::AsRawFd;
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .context("opening the terminal")?;
    let fd = tty.as_raw_fd();
    // SAFETY: termios is plain data; tcgetattr fills it for a valid fd.
    let mut saved: libc::termios = unsafe { std::mem::zeroed() };
    if unsafe { libc::tcgetattr(fd, &mut saved) } != 0 {
        bail!("cannot read the terminal's settings");
    }
    let mut quiet = saved;
    quiet.c_lflag &= !libc::ECHO;
    quiet.c_lflag |= libc::ECHONL;
    // SAFETY: a valid fd and a termios made from the one it returned.
    unsafe { libc::tcsetattr(fd, libc::TCSANOW, &quiet) };
    let mut out = &tty;
    let _ = write!(out, "{prompt}");
    let _ = out.flush();
    let mut line = String::new();
    let read = std::io::BufReader::new(&tty).read_line(&mut line);
    // SAFETY: restores the settings read above.
    unsafe { libc::tcsetattr(fd, libc::TCSANOW, &saved) };
    read.context("reading the passphrase")?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}

/// Ask a yes/no question on the terminal (no means no).
pub fn confirm(question: &str) -> bool {
    use std::io::BufRead;
    print!("{question} [y/N] ");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).is_ok() && matches!(line.trim(), "y" | "Y" | "yes")
}
