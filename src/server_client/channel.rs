//! [`ServerChannel`]: one channel, acted on as any user: create it for a user, send
//! messages and files as a user, query it as the app.

use serde_json::{Value, json};
use stream_chat_callbacks::{Call, ChatError};
use stream_chat_protocol::{
    ChannelRequestData, ChannelState, Message, MessageResponse, QueryChannelRequest,
    SendMessageRequest, UpdateChannelRequest, UploadedFile,
};

use super::ServerClient;
use crate::rest::Request;
use crate::upload::{self, Upload};

/// A channel of a [`ServerClient`]: every call names the user it acts for.
///
/// ```
/// use stream_chat_client::{Message, ServerClient, Upload, User};
/// # let server = stream_chat_server::Server::builder().start().unwrap();
/// # let admin = ServerClient::builder(server.api_key(), server.api_secret()).base_url(server.base_url()).build().unwrap();
/// let channel = admin.channel("messaging", "support").unwrap();
/// let state = channel.create("agent", &["agent", "customer"]).execute().into_result().unwrap();
/// assert_eq!(state.channel.created_by.unwrap().id, "agent");
/// let file = channel.send_file(Upload::from_bytes(b"log".to_vec(), "log.txt"), "agent").execute().into_result().unwrap();
/// let mut message = Message::with_text("the log");
/// message.attachments = Some(vec![file.file_attachment("log.txt", "text/plain", 3)]);
/// channel.send_message(message, "agent").execute().into_result().unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct ServerChannel {
    client: ServerClient,
    channel_type: String,
    channel_id: String,
}

impl ServerChannel {
    pub(super) fn new(client: ServerClient, channel_type: &str, channel_id: &str) -> Self {
        ServerChannel {
            client,
            channel_type: channel_type.to_owned(),
            channel_id: channel_id.to_owned(),
        }
    }

    /// `<type>:<id>`.
    pub fn cid(&self) -> String {
        format!("{}:{}", self.channel_type, self.channel_id)
    }

    fn path(&self, action: &str) -> String {
        format!(
            "channels/{}/{}/{action}",
            self.channel_type, self.channel_id
        )
    }

    /// Gets or creates the channel, created by `created_by_id` with `members`.
    pub fn create(&self, created_by_id: &str, members: &[&str]) -> Call<ChannelState> {
        let data = ChannelRequestData {
            created_by_id: Some(created_by_id.to_owned()),
            members: Some(members.iter().map(|m| json!(m)).collect()),
            ..ChannelRequestData::default()
        };
        self.query(QueryChannelRequest {
            data: Some(data),
            state: Some(true),
            ..QueryChannelRequest::default()
        })
    }

    /// Gets or creates the channel with a request of your own (a new channel needs
    /// `data.created_by_id`; there is no socket, so `watch` and `presence` are dropped).
    pub fn query(&self, request: QueryChannelRequest) -> Call<ChannelState> {
        let body = QueryChannelRequest {
            watch: None,
            presence: None,
            ..request
        };
        self.client
            .call(self.path("query"), move |path| Request::post(path, &body))
    }

    /// Adds members (`POST /channels/{type}/{id}`).
    pub fn add_members(&self, user_ids: &[&str]) -> Call<()> {
        let body = UpdateChannelRequest {
            add_members: Some(user_ids.iter().map(|m| json!(m)).collect()),
            ..UpdateChannelRequest::default()
        };
        let path = format!("channels/{}/{}", self.channel_type, self.channel_id);
        self.client
            .call(path, move |path| Request::post(path, &body))
            .map(|_: Value| ())
    }

    /// Sends `message` as user `user_id`.
    pub fn send_message(&self, message: Message, user_id: &str) -> Call<Message> {
        let mut message = message;
        message.user_id = Some(user_id.to_owned());
        message.user = None;
        if message.id.is_empty() {
            message.id = crate::rest::new_request_id();
        }
        let body = SendMessageRequest {
            message,
            ..SendMessageRequest::default()
        };
        self.client
            .call(self.path("message"), move |path| Request::post(path, &body))
            .map(|r: MessageResponse| r.message)
    }

    /// Uploads a file as user `user_id` (see
    /// [`ChannelClient::send_file`](crate::ChannelClient::send_file)).
    pub fn send_file(&self, upload: impl Into<Upload>, user_id: &str) -> Call<UploadedFile> {
        self.upload("file", upload.into(), user_id)
    }

    /// Uploads an image as user `user_id`.
    pub fn send_image(&self, upload: impl Into<Upload>, user_id: &str) -> Call<UploadedFile> {
        self.upload("image", upload.into(), user_id)
    }

    /// Deletes a file of this channel.
    pub fn delete_file(&self, url: &str) -> Call<()> {
        self.delete_upload("file", url)
    }

    /// Deletes an image of this channel.
    pub fn delete_image(&self, url: &str) -> Call<()> {
        self.delete_upload("image", url)
    }

    fn upload(&self, route: &str, upload: Upload, user_id: &str) -> Call<UploadedFile> {
        let path = self.path(route);
        let user = user_id.to_owned();
        let executor = self.client.inner.executor.clone();
        let early_cancel = upload::early_cancel_hook(&upload, &executor);
        let call = self.client.stream_call(move |streamer| {
            upload::run(
                &upload,
                &path,
                Some(&user),
                &executor,
                streamer.cancel,
                |req, body| streamer.send(req, body),
            )
        });
        if let Some(hook) = early_cancel {
            call.on_cancel(hook);
        }
        call
    }

    fn delete_upload(&self, route: &str, url: &str) -> Call<()> {
        let url = url.to_owned();
        self.client
            .call(self.path(route), move |path| {
                Ok::<_, ChatError>(Request::delete(path).query("url", url.clone()))
            })
            .map(|_: Value| ())
    }
}
