//! Push devices through the SDK against the in-process server: add, list, update, delete,
//! another user's device refused, bad input as a typed error, `me.devices` on connect.

use stream_chat_client::{ChatError, Device, PushProvider, codes};

use crate::support::*;

#[track_caller]
fn assert_code<T: std::fmt::Debug>(result: Result<T, ChatError>, code: i32, status: u16) {
    let err = result.expect_err("the call must fail");
    assert_eq!(
        (err.stream_code(), err.status_code()),
        (Some(code), Some(status)),
        "{err}"
    );
}

#[test]
fn a_user_adds_lists_and_deletes_devices() {
    let server = server();
    let bender = connected(&server, "bender");
    assert!(
        bender
            .get_devices()
            .execute()
            .into_result()
            .unwrap()
            .is_empty()
    );
    let phone = Device::new("fcm-bender", PushProvider::Firebase);
    let tablet = Device::new("apn-bender", PushProvider::Apn).with_provider_name("prod");
    for d in [&phone, &tablet] {
        bender
            .add_device(d.clone())
            .execute()
            .into_result()
            .unwrap();
    }
    let devices = bender.get_devices().execute().into_result().unwrap();
    let listed: Vec<(&str, PushProvider, Option<&str>)> = devices
        .iter()
        .map(|d| {
            (
                d.id.as_str(),
                d.push_provider,
                d.push_provider_name.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            ("fcm-bender", PushProvider::Firebase, None),
            ("apn-bender", PushProvider::Apn, Some("prod")),
        ]
    );
    assert!(
        devices
            .iter()
            .all(|d| d.user_id.as_deref() == Some("bender"))
    );
    assert!(devices.iter().all(|d| d.created_at.is_some()));

    // Adding the same id again updates it; still two devices.
    bender
        .add_device(phone.clone().with_provider_name("beta"))
        .execute()
        .into_result()
        .unwrap();
    let devices = bender.get_devices().execute().into_result().unwrap();
    assert_eq!(devices.len(), 2);
    assert_eq!(devices[0].push_provider_name.as_deref(), Some("beta"));

    bender
        .delete_device(phone.clone())
        .execute()
        .into_result()
        .unwrap();
    let ids: Vec<String> = bender
        .get_devices()
        .execute()
        .into_result()
        .unwrap()
        .into_iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(ids, ["apn-bender"]);
    assert_code(
        bender.delete_device(phone).execute().into_result(),
        codes::DOES_NOT_EXIST,
        404,
    );

    // A new connection's `me` carries the devices.
    bender.disconnect().execute().into_result().unwrap();
    let again = connected(&server, "bender");
    let me = again.current_user().unwrap();
    let me_devices = me.devices.unwrap();
    assert_eq!(me_devices.len(), 1);
    assert_eq!(me_devices[0]["id"], "apn-bender");
}

#[test]
fn another_users_device_cannot_be_deleted() {
    let server = server();
    let bender = connected(&server, "bender");
    let fry = connected(&server, "fry");
    let theirs = Device::new("huawei-fry", PushProvider::Huawei);
    fry.add_device(theirs.clone())
        .execute()
        .into_result()
        .unwrap();
    assert_code(
        bender.delete_device(theirs).execute().into_result(),
        codes::NOT_ALLOWED,
        403,
    );
    // Each lists only their own.
    assert!(
        bender
            .get_devices()
            .execute()
            .into_result()
            .unwrap()
            .is_empty()
    );
    let kept = fry.get_devices().execute().into_result().unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].push_provider, PushProvider::Huawei);
}

#[test]
fn bad_input_is_stream_input_error() {
    let server = server();
    let bender = connected(&server, "bender");
    assert_code(
        bender
            .add_device(Device::new("", PushProvider::Xiaomi))
            .execute()
            .into_result(),
        codes::INPUT,
        400,
    );
    assert_code(
        bender
            .delete_device(Device::new(" ", PushProvider::Xiaomi))
            .execute()
            .into_result(),
        codes::INPUT,
        400,
    );
    assert!(
        bender
            .get_devices()
            .execute()
            .into_result()
            .unwrap()
            .is_empty()
    );
}
