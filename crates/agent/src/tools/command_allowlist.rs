//! Does a shell command satisfy the exec allowlist? After OpenClaw's rules: patterns are
//! case-insensitive globs (`*` within one path component, `**` across them, `~` for the home
//! folder) matched against the **resolved executable path** of each command; a chain
//! (`;`, `&&`, `||`, `|`, new lines) is allowed only when every command in it matches.
//! Anything the analysis does not model fails closed (counts as not allowlisted, so the user is
//! asked): redirections, background `&`, subshells, `$` expansions and command substitution,
//! environment assignments before a command, globs or `~` in the command word.
//!
//! The lexer is hand-written: word-splitting crates (`shlex`, `shell-words`) split words but do
//! not report operators or the syntax we must refuse, which is the point here. Glob matching
//! uses `globset`.

use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobMatcher};

/// The chain being split: finished commands, the current command's words, the current word.
#[derive(Default)]
struct Chain {
    segments: Vec<Vec<String>>,
    words: Vec<String>,
    word: String,
    in_word: bool,
    /// The current word started with an unquoted `~` / holds an unquoted glob character.
    tilde: bool,
    glob: bool,
    /// The same, for the current command's first word.
    first_tilde: bool,
    first_glob: bool,
}

impl Chain {
    fn push(&mut self, c: char) {
        self.word.push(c);
        self.in_word = true;
    }

    fn end_word(&mut self) {
        if self.in_word {
            if self.words.is_empty() {
                (self.first_tilde, self.first_glob) = (self.tilde, self.glob);
            }
            self.words.push(std::mem::take(&mut self.word));
            self.in_word = false;
        }
        (self.tilde, self.glob) = (false, false);
    }

    fn end_command(&mut self) -> Result<(), String> {
        self.end_word();
        if self.words.is_empty() {
            return Err("an empty command in the chain".into());
        }
        if self.first_tilde {
            return Err("`~` in the command word".into());
        }
        if self.first_glob {
            return Err("a glob in the command word".into());
        }
        self.segments.push(std::mem::take(&mut self.words));
        Ok(())
    }
}

/// The commands of a chain (each a list of words), or why the command cannot be analysed.
pub fn analyze(command: &str) -> Result<Vec<Vec<String>>, String> {
    let mut chain = Chain::default();
    let chars: Vec<char> = command.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' => chain.end_word(),
            '\n' | ';' => {
                chain.end_word();
                // An empty line is fine; `;` must end a command (`;;` belongs to `case`).
                if c == ';' || !chain.words.is_empty() {
                    chain.end_command()?;
                }
            }
            '&' | '|' => {
                let doubled = chars.get(i + 1) == Some(&c);
                if c == '&' && !doubled {
                    return Err("a background job (`&`)".into());
                }
                chain.end_command()?;
                if doubled {
                    i += 1;
                }
            }
            '>' | '<' => return Err("a redirection".into()),
            '(' | ')' => return Err("a subshell or function".into()),
            '`' => return Err("command substitution".into()),
            '$' => return Err("a `$` expansion".into()),
            '#' if !chain.in_word => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                continue;
            }
            '\\' => {
                i += 1;
                match chars.get(i) {
                    Some('\n') => {}
                    Some(&next) => chain.push(next),
                    None => return Err("a trailing backslash".into()),
                }
            }
            '\'' => {
                chain.in_word = true;
                i += 1;
                while i < chars.len() && chars[i] != '\'' {
                    chain.push(chars[i]);
                    i += 1;
                }
                if i >= chars.len() {
                    return Err("an unterminated quote".into());
                }
            }
            '"' => {
                chain.in_word = true;
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err("an unterminated quote".into()),
                        Some('"') => break,
                        Some('$') | Some('`') => {
                            return Err("an expansion inside double quotes".into());
                        }
                        Some('\\') if matches!(chars.get(i + 1), Some('"' | '\\' | '\n')) => {
                            if chars[i + 1] != '\n' {
                                chain.push(chars[i + 1]);
                            }
                            i += 2;
                            continue;
                        }
                        Some(&other) => chain.push(other),
                    }
                    i += 1;
                }
            }
            _ => {
                if !chain.in_word && c == '~' {
                    chain.tilde = true;
                }
                if matches!(c, '*' | '?' | '[') {
                    chain.glob = true;
                }
                if c == '=' && chain.words.is_empty() && is_name(&chain.word) && !chain.glob {
                    return Err("an environment assignment before the command".into());
                }
                chain.push(c);
            }
        }
        i += 1;
    }
    chain.end_word();
    if !chain.words.is_empty() {
        chain.end_command()?;
    } else if chain.segments.is_empty() {
        return Err("an empty command".into());
    }
    Ok(chain.segments)
}

fn is_name(word: &str) -> bool {
    let mut chars = word.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// Compiled allowlist patterns.
#[derive(Debug, Clone)]
pub struct Allowlist {
    patterns: Vec<(String, GlobMatcher)>,
}

impl Allowlist {
    /// Compiles `patterns` (`~/` expands to `home`). Patterns that are not paths (no `/`) are
    /// skipped, as OpenClaw does: they could only match a bare name, never a resolved path.
    pub fn new(patterns: &[String], home: Option<&Path>) -> Self {
        let mut compiled = Vec::new();
        for raw in patterns {
            let raw = raw.trim();
            let expanded = match (raw.strip_prefix("~/"), home) {
                (Some(rest), Some(home)) => format!("{}/{rest}", home.display()),
                _ => raw.to_string(),
            };
            if !expanded.contains('/') {
                continue;
            }
            if let Ok(glob) = GlobBuilder::new(&expanded)
                .case_insensitive(true)
                .literal_separator(true)
                .build()
            {
                compiled.push((raw.to_string(), glob.compile_matcher()));
            }
        }
        Allowlist { patterns: compiled }
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    fn matches(&self, path: &Path) -> bool {
        self.patterns.iter().any(|(_, g)| g.is_match(path))
    }

    /// `Ok` when every command of the chain resolves to an allowlisted executable; `Err` says
    /// which command did not (for the approval prompt and refusals).
    pub fn check(
        &self,
        command: &str,
        cwd: &Path,
        path_env: Option<&std::ffi::OsStr>,
    ) -> Result<(), String> {
        for found in programs(command, cwd, path_env)? {
            let canonical = std::fs::canonicalize(&found).unwrap_or_else(|_| found.clone());
            if !(self.matches(&found) || self.matches(&canonical)) {
                return Err(format!("{} is not on the allowlist", found.display()));
            }
        }
        Ok(())
    }
}

/// The resolved executable of each command of the chain, or why the command cannot be
/// analysed or a program was not found.
pub fn programs(
    command: &str,
    cwd: &Path,
    path_env: Option<&std::ffi::OsStr>,
) -> Result<Vec<PathBuf>, String> {
    let segments = analyze(command).map_err(|why| format!("the command has {why}"))?;
    segments
        .iter()
        .map(|segment| {
            let name = &segment[0];
            resolve_executable(name, cwd, path_env)
                .ok_or_else(|| format!("`{name}` is not a program on PATH"))
        })
        .collect()
}

/// The file a command word runs: a path (relative to `cwd`) or the first match in `PATH`.
pub fn resolve_executable(
    name: &str,
    cwd: &Path,
    path_env: Option<&std::ffi::OsStr>,
) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let executable = |p: &Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if name.contains('/') {
        let p = cwd.join(name);
        return executable(&p).then_some(p);
    }
    std::env::split_paths(path_env?)
        .filter(|dir| dir.is_absolute())
        .map(|dir| dir.join(name))
        .find(|p| executable(p))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn chains_split_into_commands() {
        assert_eq!(
            analyze("ls -la && cat 'a b' | wc -l; echo \"x y\"\nls").unwrap(),
            vec![
                vec!["ls".to_string(), "-la".into()],
                vec!["cat".into(), "a b".into()],
                vec!["wc".into(), "-l".into()],
                vec!["echo".into(), "x y".into()],
                vec!["ls".into()],
            ]
        );
        assert_eq!(
            analyze("grep a\\ b f # note").unwrap(),
            vec![vec!["grep".to_string(), "a b".into(), "f".into()]]
        );
        assert_eq!(analyze("a || b").unwrap().len(), 2);
    }

    #[test]
    fn unmodelled_syntax_fails_closed() {
        for (cmd, why) in [
            ("ls > out", "redirection"),
            ("cat < in", "redirection"),
            ("sleep 1 &", "background"),
            ("(cd /; ls)", "subshell"),
            ("echo $(id)", "$"),
            ("echo `id`", "substitution"),
            ("echo $HOME", "$"),
            ("echo \"$HOME\"", "double quotes"),
            ("LD_PRELOAD=x ls", "assignment"),
            ("~/bin/tool", "~"),
            ("/usr/bin/l* -a", "glob"),
            ("echo 'open", "unterminated"),
            ("ls ;; ls", "empty"),
            ("| ls", "empty"),
            ("", "empty"),
        ] {
            let err = analyze(cmd).unwrap_err();
            assert!(err.contains(why), "{cmd}: {err}");
        }
        // Globs and `=` in arguments are fine.
        assert!(analyze("ls *.rs a=b").is_ok());
    }

    #[test]
    fn patterns_match_resolved_paths() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        for name in ["tool", "other"] {
            let p = bin.join(name);
            std::fs::write(&p, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755))
                .unwrap();
        }
        let path_env = std::ffi::OsString::from(bin.as_os_str());
        let home = dir.path();
        let list = Allowlist::new(&["~/BIN/tool".into(), "tool".into()], Some(home));
        assert!(!list.is_empty());
        let check = |c: &str| list.check(c, dir.path(), Some(path_env.as_os_str()));
        assert!(check("tool -x").is_ok());
        assert!(check("tool && tool | tool").is_ok());
        assert!(check("./bin/tool").is_ok());
        assert!(
            check("tool; other")
                .unwrap_err()
                .contains("other is not on the allowlist")
        );
        assert!(check("missing").unwrap_err().contains("not a program"));
        let star = Allowlist::new(&[format!("{}/*", bin.display())], None);
        assert!(
            star.check("other", dir.path(), Some(path_env.as_os_str()))
                .is_ok()
        );
        let bare = Allowlist::new(&["tool".into()], None);
        assert!(bare.is_empty(), "a bare name is not a path pattern");
    }
}
