//! Hints from a hint server instead of the local large model: the client of
//! the installed pair, started, restarted and stopped on the large model's
//! thread as the setting and the pair change.

use kb_link::{ClientSettings, HintClient};

use crate::telemetry::Telemetry;

/// The pair a client serves: its generation, identity and hint size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemotePair<'a> {
    /// Generation of the installed pair.
    pub gen: u32,
    /// Its identity (SHA-256), as the server checks it.
    pub identity: &'a str,
    /// Values in one of its hint frames.
    pub hint_values: usize,
}

/// The client for the installed pair, when the setting names a server.
#[derive(Debug, Default)]
pub struct RemoteHints {
    client: Option<HintClient>,
    serving: Option<(ClientSettings, u32)>,
}

impl RemoteHints {
    /// Starts, restarts or stops the client so that it serves `pair` from
    /// `wanted` (None: the local large model runs). A client that cannot start
    /// says why in the telemetry and is not tried again until something changes.
    pub fn follow(
        &mut self,
        wanted: Option<&ClientSettings>,
        pair: Option<RemotePair<'_>>,
        telemetry: &Telemetry,
    ) {
        let (Some(settings), Some(pair)) = (wanted, pair) else {
            if self.serving.is_some() {
                telemetry.set_link(None);
            }
            self.client = None;
            self.serving = None;
            return;
        };
        if self
            .serving
            .as_ref()
            .is_some_and(|(s, gen)| s == settings && *gen == pair.gen)
        {
            return;
        }
        self.client = None;
        match HintClient::start(settings, pair.identity.to_owned(), pair.hint_values) {
            Ok(c) => {
                telemetry.set_link(Some(c.status().clone()));
                self.client = Some(c);
            }
            Err(e) => {
                telemetry.set_link(None);
                telemetry.set_message(format!("hint server {}: {e}", settings.server));
            }
        }
        self.serving = Some((settings.clone(), pair.gen));
    }

    /// The running client, if hints come from a server.
    pub fn client(&self) -> Option<&HintClient> {
        self.client.as_ref()
    }
}
