//! Push devices: a user registers the tokens of their phones (`POST /devices`), lists them
//! (`GET /devices`) and removes them (`DELETE /devices`). This server sends no pushes; it
//! keeps the devices (durably with `--data-dir`) and shows them in the own user's
//! `devices`, so that apps can test their registration flows.
//!
//! A device id is unique in the app: registering an id that another user holds moves it to
//! the caller (a phone on which a different user logged in). A user token acts only for
//! its own user; a server token names the user (`user_id`), who must exist.

use stream_chat_protocol::{AddDeviceRequest, Device, PushProvider};

use super::caller::{Actor, Caller};
use super::{Chat, World};
use crate::error::{ApiError, ApiResult};

/// The provider names, for error messages.
fn provider_names() -> String {
    PushProvider::ALL.map(PushProvider::as_str).join(", ")
}

impl World {
    /// The user a device call acts for (refusing anonymous callers), who must exist.
    fn device_owner(&self, op: &str, caller: &Caller, named: Option<&str>) -> ApiResult<String> {
        if caller.actor == Actor::Anonymous {
            return Err(ApiError::forbidden(
                op,
                "anonymous users cannot have push devices",
            ));
        }
        let user = self.moderator(op, caller, named.filter(|id| !id.is_empty()))?;
        self.existing_user(op, &user)?;
        Ok(user)
    }

    /// The own user's `devices` (as JSON values, the shape `me` carries).
    pub(crate) fn devices_view(&self, user_id: &str) -> ApiResult<Vec<serde_json::Value>> {
        Ok(self
            .store
            .devices(user_id)?
            .iter()
            .filter_map(|d| serde_json::to_value(d).ok())
            .collect())
    }
}

impl Chat {
    /// `POST /devices`: registers (or updates) a device of the caller, or of `user_id` with
    /// a server token. A missing id, or a missing or unknown `push_provider`, is code 4.
    pub(crate) fn add_device(
        &self,
        op: &str,
        actor: Actor,
        body: AddDeviceRequest,
    ) -> ApiResult<Device> {
        let id = body.id.trim();
        if id.is_empty() {
            return Err(ApiError::input(op, "id is a required field"));
        }
        let provider = match body.push_provider.as_deref() {
            None | Some("") => {
                return Err(ApiError::input(
                    op,
                    format!(
                        "push_provider is a required field (one of {})",
                        provider_names()
                    ),
                ));
            }
            Some(name) => PushProvider::parse(name).ok_or_else(|| {
                ApiError::input(
                    op,
                    format!("push_provider '{name}' is not one of {}", provider_names()),
                )
            })?,
        };
        let (mut world, caller) = self.enter(actor)?;
        let user = world.device_owner(op, &caller, body.user_id.as_deref())?;
        let previous = world
            .store
            .device(id)?
            .filter(|d| d.user_id.as_deref() == Some(user.as_str()));
        let created_at = match previous.and_then(|d| d.created_at) {
            Some(at) => at,
            None => world.now(),
        };
        let device = Device {
            user_id: Some(user),
            created_at: Some(created_at),
            push_provider_name: body.push_provider_name.filter(|n| !n.is_empty()),
            ..Device::new(id, provider)
        };
        world.store.put_device(device.clone())?;
        Ok(device)
    }

    /// `GET /devices[?user_id=]`: the caller's devices (a server token names the user).
    pub(crate) fn devices(
        &self,
        op: &str,
        actor: Actor,
        user_id: Option<&str>,
    ) -> ApiResult<Vec<Device>> {
        let (world, caller) = self.enter(actor)?;
        let user = world.device_owner(op, &caller, user_id)?;
        Ok(world.store.devices(&user)?)
    }

    /// `DELETE /devices?id=[&user_id=]`: removes a device of the caller (a server token
    /// names the user). Another user's device is code 17; an unknown one code 16.
    pub(crate) fn delete_device(
        &self,
        op: &str,
        actor: Actor,
        id: Option<&str>,
        user_id: Option<&str>,
    ) -> ApiResult<()> {
        let id = id.map(str::trim).unwrap_or_default();
        if id.is_empty() {
            return Err(ApiError::input(op, "id is a required parameter"));
        }
        let (mut world, caller) = self.enter(actor)?;
        let user = world.device_owner(op, &caller, user_id)?;
        let owner = world.store.device(id)?.and_then(|d| d.user_id);
        match owner {
            Some(owner) if owner == user => {
                world.store.remove_device(id)?;
                Ok(())
            }
            Some(_) if !caller.is_server() => Err(ApiError::forbidden(
                op,
                format!("user '{user}' cannot delete device '{id}' of another user"),
            )),
            _ => Err(ApiError::not_found(
                op,
                format!("device '{id}' of user '{user}' does not exist"),
            )),
        }
    }
}
