//! Uploads: `send_file`, `send_image`, `delete_file` and `delete_image` (Android's names).

use serde_json::Value;
use stream_chat_callbacks::Call;
use stream_chat_protocol::UploadedFile;

use super::ChannelClient;
use crate::rest::Request;
use crate::upload::{self, Upload};

impl ChannelClient {
    /// Uploads a file to this channel (`POST /channels/{type}/{id}/file`) and returns where
    /// it is served, for a message's attachment. The body streams from the path or reader
    /// (the file is never held whole in memory); the upload has no overall deadline, but
    /// each write and the wait for the answer are bounded by the request timeout. Progress
    /// goes to the upload's [`ProgressCallback`](crate::ProgressCallback); `cancel()`
    /// closes the connection mid-upload and the progress callback gets
    /// [`ErrorKind::Cancelled`](crate::ErrorKind::Cancelled) once. The server refuses files
    /// over its limit with [`codes::PAYLOAD_TOO_BIG`](crate::codes::PAYLOAD_TOO_BIG) (22,
    /// HTTP 413; 100 MB on Stream), and users who may not upload here (anonymous users
    /// never may) with code 17.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, Message, Upload, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("livestream", "demo").unwrap();
    /// channel.watch().execute().into_result().unwrap();
    /// let upload = Upload::from_bytes(b"%PDF-1.7 ...".to_vec(), "plan.pdf")
    ///     .on_progress(|sent, total| println!("{sent} of {total:?} bytes"));
    /// let file = channel.send_file(upload).execute().into_result().unwrap();
    /// let mut message = Message::with_text("the plan");
    /// message.attachments = Some(vec![file.file_attachment("plan.pdf", "application/pdf", 12)]);
    /// channel.send_message(message).execute().into_result().unwrap();
    /// ```
    pub fn send_file(&self, upload: impl Into<Upload>) -> Call<UploadedFile> {
        self.upload("file", upload.into())
    }

    /// Uploads an image (`POST /channels/{type}/{id}/image`). Like
    /// [`send_file`](Self::send_file); the server checks the first bytes are an image's
    /// (PNG, JPEG, GIF, WebP, BMP, HEIC/HEIF, AVIF) and refuses others with code 4.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, Upload, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("livestream", "demo").unwrap();
    /// channel.watch().execute().into_result().unwrap();
    /// let not_an_image = Upload::from_bytes(b"hello".to_vec(), "hello.png");
    /// let err = channel.send_image(not_an_image).execute().into_result().unwrap_err();
    /// assert_eq!(err.stream_code(), Some(stream_chat_client::codes::INPUT));
    /// ```
    pub fn send_image(&self, upload: impl Into<Upload>) -> Call<UploadedFile> {
        self.upload("image", upload.into())
    }

    /// Deletes a file this channel's [`send_file`](Self::send_file) returned
    /// (`DELETE …/file?url=`). Its uploader, moderators and admins may.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, Upload, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// # let channel = client.channel("livestream", "demo").unwrap();
    /// # channel.watch().execute().into_result().unwrap();
    /// let file = channel.send_file(Upload::from_bytes(vec![1, 2, 3], "x.bin")).execute().into_result().unwrap();
    /// channel.delete_file(&file.file).execute().into_result().unwrap();
    /// ```
    pub fn delete_file(&self, url: &str) -> Call<()> {
        self.delete_upload("file", url)
    }

    /// Deletes an image this channel's [`send_image`](Self::send_image) returned.
    ///
    /// ```
    /// # use stream_chat_client::{ChatClient, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// # let channel = client.channel("livestream", "demo").unwrap();
    /// let err = channel.delete_image("http://127.0.0.1:1/uploads/none/x.png").execute().into_result().unwrap_err();
    /// assert_eq!(err.stream_code(), Some(stream_chat_client::codes::DOES_NOT_EXIST));
    /// ```
    pub fn delete_image(&self, url: &str) -> Call<()> {
        self.delete_upload("image", url)
    }

    fn upload(&self, route: &'static str, upload: Upload) -> Call<UploadedFile> {
        let path = self.path(route);
        let early_cancel = upload::early_cancel_hook(&upload, self.core.executor());
        let call = self.core.call(move |rest| {
            upload::run(
                &upload,
                &path,
                None,
                rest.executor(),
                rest.cancel_token(),
                |req, body| rest.send_stream(req, body),
            )
        });
        if let Some(hook) = early_cancel {
            call.on_cancel(hook);
        }
        call
    }

    fn delete_upload(&self, route: &'static str, url: &str) -> Call<()> {
        let path = self.path(route);
        let url = url.to_owned();
        self.core.call(move |rest| {
            let _: Value = rest.send(&Request::delete(&path).query("url", url.clone()))?;
            Ok(())
        })
    }
}
