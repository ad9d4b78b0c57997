//! `cargo xtask install`: copies the release bundles into the user's CLAP and
//! VST3 folders (building them first unless told not to); `--uninstall`
//! removes them.

use std::path::{Path, PathBuf};

/// Arguments of `cargo xtask install`.
#[derive(clap::Args)]
pub struct Args {
    /// Remove the installed bundles instead.
    #[arg(long)]
    pub uninstall: bool,
    /// Install the bundles already in `--from` without building them.
    #[arg(long)]
    pub no_build: bool,
    /// Folder holding the bundles (default: target/bundled).
    #[arg(long)]
    pub from: Option<PathBuf>,
    /// CLAP folder (default: the platform's per-user folder).
    #[arg(long)]
    pub clap_dir: Option<PathBuf>,
    /// VST3 folder (default: the platform's per-user folder).
    #[arg(long)]
    pub vst3_dir: Option<PathBuf>,
}

/// The per-user plugin folders the hosts scan: (CLAP, VST3).
pub fn default_folders() -> Result<(PathBuf, PathBuf), String> {
    let var = |name: &str| {
        std::env::var_os(name)
            .map(PathBuf::from)
            .ok_or_else(|| format!("${name} is not set: pass --clap-dir and --vst3-dir"))
    };
    if cfg!(target_os = "windows") {
        let common = var("LOCALAPPDATA")?.join("Programs").join("Common");
        Ok((common.join("CLAP"), common.join("VST3")))
    } else if cfg!(target_os = "macos") {
        let plugins = var("HOME")?.join("Library/Audio/Plug-Ins");
        Ok((plugins.join("CLAP"), plugins.join("VST3")))
    } else {
        let home = var("HOME")?;
        Ok((home.join(".clap"), home.join(".vst3")))
    }
}

/// Copies a file or a folder (a bundle) to `to`, replacing what is there.
fn copy_bundle(from: &Path, to: &Path) -> Result<(), String> {
    remove_bundle(to)?;
    if from.is_dir() {
        std::fs::create_dir_all(to).map_err(|e| format!("cannot create {}: {e}", to.display()))?;
        let entries =
            std::fs::read_dir(from).map_err(|e| format!("cannot read {}: {e}", from.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("cannot read {}: {e}", from.display()))?;
            copy_bundle(&entry.path(), &to.join(entry.file_name()))?;
        }
        Ok(())
    } else {
        std::fs::copy(from, to)
            .map(|_| ())
            .map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), to.display()))
    }
}

/// Removes a file or folder if it is there.
fn remove_bundle(path: &Path) -> Result<(), String> {
    let result = if path.is_dir() {
        std::fs::remove_dir_all(path)
    } else if path.exists() {
        std::fs::remove_file(path)
    } else {
        return Ok(());
    };
    result.map_err(|e| format!("cannot remove {}: {e}", path.display()))
}

/// Runs the command.
pub fn run(args: &Args) -> Result<(), String> {
    let (clap_default, vst3_default) = match (&args.clap_dir, &args.vst3_dir) {
        (Some(c), Some(v)) => (c.clone(), v.clone()),
        _ => default_folders()?,
    };
    let clap_dir = args.clap_dir.clone().unwrap_or(clap_default);
    let vst3_dir = args.vst3_dir.clone().unwrap_or(vst3_default);
    let name = knowledge_boost::BUNDLE_NAME;
    let targets = [
        (format!("{name}.clap"), clap_dir),
        (format!("{name}.vst3"), vst3_dir),
    ];
    if args.uninstall {
        for (bundle, dir) in &targets {
            let path = dir.join(bundle);
            let was = path.exists();
            remove_bundle(&path)?;
            println!(
                "{} {}",
                if was { "removed" } else { "not installed:" },
                path.display()
            );
        }
        return Ok(());
    }
    let from = match &args.from {
        Some(dir) => dir.clone(),
        None if args.no_build => kb_e2e::workspace_root().join("target").join("bundled"),
        None => crate::demo::release_bundle()
            .map_err(|e| format!("bundling failed: {e:#}"))?
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default(),
    };
    for (bundle, dir) in &targets {
        let source = from.join(bundle);
        if !source.exists() {
            return Err(format!(
                "{} is missing: run `cargo xtask install` without --no-build (or `cargo xtask bundle {name} --release`)",
                source.display()
            ));
        }
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        copy_bundle(&source, &dir.join(bundle))?;
        println!("installed {}", dir.join(bundle).display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake bundle pair: a `.clap` file and a `.vst3` folder tree.
    fn fake_bundles(dir: &Path) {
        let name = knowledge_boost::BUNDLE_NAME;
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join(format!("{name}.clap")), b"clap library").unwrap();
        let contents = dir.join(format!("{name}.vst3/Contents/x86_64-linux"));
        std::fs::create_dir_all(&contents).unwrap();
        std::fs::write(contents.join(format!("{name}.so")), b"vst3 library").unwrap();
    }

    #[test]
    fn install_copies_both_bundles_and_uninstall_removes_them() {
        let root = std::env::temp_dir().join(format!("kb-install-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        fake_bundles(&root.join("bundled"));
        let args = |uninstall| Args {
            uninstall,
            no_build: true,
            from: Some(root.join("bundled")),
            clap_dir: Some(root.join("clap")),
            vst3_dir: Some(root.join("vst3")),
        };
        run(&args(false)).unwrap();
        let name = knowledge_boost::BUNDLE_NAME;
        let clap = root.join("clap").join(format!("{name}.clap"));
        let so = root
            .join("vst3")
            .join(format!("{name}.vst3/Contents/x86_64-linux/{name}.so"));
        assert_eq!(std::fs::read(&clap).unwrap(), b"clap library");
        assert_eq!(std::fs::read(&so).unwrap(), b"vst3 library");
        // Installing again replaces, uninstalling removes both and leaves the folders.
        run(&args(false)).unwrap();
        run(&args(true)).unwrap();
        assert!(!clap.exists() && !root.join("vst3").join(format!("{name}.vst3")).exists());
        assert!(root.join("clap").is_dir());
        let missing = Args {
            from: Some(root.join("nowhere")),
            ..args(false)
        };
        assert!(run(&missing).unwrap_err().contains("is missing"));
    }
}
