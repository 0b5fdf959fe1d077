//! How a stored message is shown, and to whom: the viewer's own reactions (a REST response
//! carries the caller's, a broadcast event none, as Stream does), a pin that has expired
//! shown as no pin (checked when read: no timer per pin), and the quoted message embedded
//! as it is now (one level deep).

use stream_chat_protocol::{Message, time};

use super::World;
use super::caller::Caller;
use super::store::StoreResult;

/// Whose view of a message: a user's (their `own_reactions`), or nobody's (broadcast events
/// and server-side callers: `own_reactions` empty).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Viewer<'a> {
    User(&'a str),
    Nobody,
}

impl<'a> Viewer<'a> {
    /// The caller's view: a user's, or nobody's for server tokens.
    pub(crate) fn of(caller: &'a Caller) -> Viewer<'a> {
        if caller.is_server() {
            Viewer::Nobody
        } else {
            Viewer::User(&caller.id)
        }
    }
}

/// Whether `message` is pinned at `now` (nanoseconds): pinned, and its `pin_expires` (if
/// any) not reached.
pub(crate) fn pin_active(message: &Message, now: i128) -> bool {
    message.pinned == Some(true)
        && message
            .pin_expires
            .as_deref()
            .and_then(time::parse_rfc3339_or_naive)
            .is_none_or(|expires| expires > now)
}

/// Shows `message` unpinned: `pinned: false` and no pin fields.
pub(crate) fn clear_pin(message: &mut Message) {
    message.pinned = Some(false);
    message.pinned_at = None;
    message.pinned_by = None;
    message.pin_expires = None;
}

impl World {
    /// `message` as `viewer` sees it now (see the module documentation).
    pub(crate) fn message_view(
        &self,
        mut message: Message,
        viewer: Viewer,
    ) -> StoreResult<Message> {
        self.shape(&mut message, viewer, time::now_nanos(), true)?;
        Ok(message)
    }

    /// [`World::message_view`] of each message.
    pub(crate) fn message_views(
        &self,
        messages: Vec<Message>,
        viewer: Viewer,
    ) -> StoreResult<Vec<Message>> {
        let now = time::now_nanos();
        messages
            .into_iter()
            .map(|mut m| {
                self.shape(&mut m, viewer, now, true)?;
                Ok(m)
            })
            .collect()
    }

    fn shape(&self, m: &mut Message, viewer: Viewer, now: i128, quote: bool) -> StoreResult<()> {
        m.own_reactions = Some(match viewer {
            Viewer::User(id) => {
                let mut own: Vec<_> = self
                    .store
                    .reactions(&m.id)?
                    .into_iter()
                    .filter(|r| r.user_id == id)
                    .collect();
                own.reverse(); // newest first, as latest_reactions
                own
            }
            Viewer::Nobody => Vec::new(),
        });
        if m.pinned == Some(true) && !pin_active(m, now) {
            clear_pin(m);
        }
        m.quoted_message = None;
        if quote
            && let Some(id) = m.quoted_message_id.as_deref()
            && let Some(mut quoted) = self.store.message(id)?
        {
            self.shape(&mut quoted, viewer, now, false)?;
            m.quoted_message = Some(Box::new(quoted));
        }
        Ok(())
    }
}
