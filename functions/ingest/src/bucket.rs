//! The uploads bucket (`UPLOADS_BUCKET`) through the S3 API: bounded reads, folder deletes, and presigned uploads
//! whose content type and length are part of the signature, so a member can send exactly the file they announced.
//! Any S3-compatible server works: with an endpoint override (`AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`) requests
//! use path-style addressing, which local servers need.

use aws_sdk_s3::Client;
use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::presigning::PresigningConfig;
use navigator_platform::NavigatorError;
use navigator_platform::documents::UploadRequest;
use std::time::Duration;

/// The tag a refused upload's object carries.
pub const FAILED_TAG: (&str, &str) = ("navigator-status", "failed");

/// One bucket, one client per execution environment.
#[derive(Clone)]
pub struct UploadsBucket {
    client: Client,
    name: String,
}

/// What a bounded read found.
pub enum Read {
    Bytes(Vec<u8>),
    /// Larger than the cap: not read.
    TooLarge(u64),
    /// Gone (deleted after the event was sent).
    Missing,
}

fn unavailable(error: impl std::fmt::Display) -> NavigatorError {
    NavigatorError::unavailable("s3", error)
}

impl UploadsBucket {
    /// The bucket `UPLOADS_BUCKET` names, through the shared AWS configuration.
    pub async fn from_env() -> Result<Self, NavigatorError> {
        let name = std::env::var("UPLOADS_BUCKET")
            .ok()
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| NavigatorError::internal("UPLOADS_BUCKET must name the uploads bucket"))?;
        let shared = navigator_platform::aws::load().await;
        let path_style = ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"]
            .iter()
            .any(|variable| std::env::var_os(variable).is_some());
        let config = aws_sdk_s3::config::Builder::from(&shared)
            .force_path_style(path_style)
            .build();
        Ok(Self::new(Client::from_conf(config), name))
    }

    pub fn new(client: Client, name: impl Into<String>) -> Self {
        Self {
            client,
            name: name.into(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The object's bytes, if it is at most `max_bytes`.
    pub async fn read(&self, key: &str, max_bytes: u64) -> Result<Read, NavigatorError> {
        let object = match self.client.get_object().bucket(&self.name).key(key).send().await {
            Ok(object) => object,
            Err(error) if error.as_service_error().is_some_and(|e| e.is_no_such_key()) => return Ok(Read::Missing),
            Err(error) => return Err(unavailable(DisplayErrorContext(&error))),
        };
        let length = object.content_length().unwrap_or_default().max(0) as u64;
        if length > max_bytes {
            return Ok(Read::TooLarge(length));
        }
        let body = object.body.collect().await.map_err(unavailable)?.into_bytes();
        // A length the headers did not announce is held to the same cap.
        if body.len() as u64 > max_bytes {
            return Ok(Read::TooLarge(body.len() as u64));
        }
        Ok(Read::Bytes(body.to_vec()))
    }

    /// Marks a refused upload's object, so the bucket's lifecycle rule deletes it after a few days (template.yaml,
    /// `ExpireFailedUploads`): kept long enough to look into, never for good.
    pub async fn tag_failed(&self, key: &str) -> Result<(), NavigatorError> {
        let tag = aws_sdk_s3::types::Tag::builder()
            .key(FAILED_TAG.0)
            .value(FAILED_TAG.1)
            .build()
            .map_err(NavigatorError::internal)?;
        let tagging = aws_sdk_s3::types::Tagging::builder()
            .tag_set(tag)
            .build()
            .map_err(NavigatorError::internal)?;
        self.client
            .put_object_tagging()
            .bucket(&self.name)
            .key(key)
            .tagging(tagging)
            .send()
            .await
            .map_err(|e| unavailable(DisplayErrorContext(&e)))?;
        Ok(())
    }

    /// Deletes every object under `prefix`.
    pub async fn delete_folder(&self, prefix: &str) -> Result<(), NavigatorError> {
        let listed = self
            .client
            .list_objects_v2()
            .bucket(&self.name)
            .prefix(prefix)
            .send()
            .await
            .map_err(|e| unavailable(DisplayErrorContext(&e)))?;
        for object in listed.contents() {
            if let Some(key) = object.key() {
                self.client
                    .delete_object()
                    .bucket(&self.name)
                    .key(key)
                    .send()
                    .await
                    .map_err(|e| unavailable(DisplayErrorContext(&e)))?;
            }
        }
        Ok(())
    }

    /// A `PUT` for exactly this object: its key, content type and length are signed, and it expires.
    pub async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        length: u64,
        expires: Duration,
    ) -> Result<UploadRequest, NavigatorError> {
        let config = PresigningConfig::expires_in(expires).map_err(NavigatorError::internal)?;
        let presigned = self
            .client
            .put_object()
            .bucket(&self.name)
            .key(key)
            .content_type(content_type)
            .content_length(length as i64)
            .presigned(config)
            .await
            .map_err(|e| NavigatorError::internal(DisplayErrorContext(&e)))?;
        let headers = presigned
            .headers()
            .map(|(name, value)| (name.to_ascii_lowercase(), value.to_string()))
            .chain([
                ("content-type".to_string(), content_type.to_string()),
                ("content-length".to_string(), length.to_string()),
            ])
            .collect();
        Ok(UploadRequest {
            method: presigned.method().to_string(),
            url: presigned.uri().to_string(),
            headers,
            expires_in_secs: expires.as_secs(),
        })
    }
}
