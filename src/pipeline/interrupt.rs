//! Ctrl-C and SIGTERM: the first asks the run to stop and save what it measured, the second
//! exits at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once the user asked to stop.
#[derive(Clone, Default)]
pub struct Interrupt(Arc<AtomicBool>);

impl Interrupt {
    /// Listens for SIGINT and SIGTERM on a background thread.
    pub fn install() -> Self {
        let flag = Interrupt::default();
        let shared = flag.clone();
        let _ = std::thread::Builder::new().name("peakrps-signals".into()).spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                return;
            };
            rt.block_on(async move {
                let mut seen = false;
                loop {
                    wait_for_signal().await;
                    if seen {
                        eprintln!("\ninterrupted again: exiting now");
                        std::process::exit(130);
                    }
                    seen = true;
                    eprintln!("\ninterrupted: stopping and saving what was measured (Ctrl-C again to exit now)");
                    shared.0.store(true, Ordering::SeqCst);
                }
            });
        });
        flag
    }

    pub fn flag(&self) -> &AtomicBool {
        &self.0
    }

    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
