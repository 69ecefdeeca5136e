//! The built channels by name.

use std::collections::BTreeMap;
use std::fmt;

use crate::channel::Channel;
use crate::config::validate_name;
use crate::error::NotifyError;

/// Every configured channel, by name, and which one is the default. Built once at start from a
/// [`ChannelsConfig`](crate::ChannelsConfig) (or from channels of one's own with
/// [`Channels::new`]) and shared by the [`Notifier`](crate::Notifier) and the workers.
pub struct Channels {
    by_name: BTreeMap<String, Box<dyn Channel>>,
    default: String,
}

impl fmt::Debug for Channels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for (name, c) in &self.by_name {
            m.entry(name, &format_args!("{} {}", c.kind(), c.target()));
        }
        m.finish()
    }
}

impl Channels {
    /// A registry of `channels`, with `default` among them.
    pub fn new(
        default: &str,
        channels: Vec<(String, Box<dyn Channel>)>,
    ) -> Result<Channels, NotifyError> {
        let mut by_name = BTreeMap::new();
        for (name, channel) in channels {
            validate_name(&name)?;
            if by_name.insert(name.clone(), channel).is_some() {
                return Err(NotifyError::Config {
                    channel: name,
                    message: "configured twice; channel names must be unique".into(),
                });
            }
        }
        let channels = Channels {
            by_name,
            default: default.to_string(),
        };
        channels.get(default)?;
        Ok(channels)
    }

    /// The channel called `name`; the error lists the configured ones.
    pub fn get(&self, name: &str) -> Result<&dyn Channel, NotifyError> {
        self.by_name
            .get(name)
            .map(|c| c.as_ref())
            .ok_or_else(|| NotifyError::UnknownChannel {
                name: name.to_string(),
                configured: self.names().into_iter().map(String::from).collect(),
            })
    }

    /// The name a caller gets when it names none.
    pub fn default_name(&self) -> &str {
        &self.default
    }

    /// `name`, or the default when `None`, checked to exist.
    pub fn resolve<'a>(&'a self, name: Option<&'a str>) -> Result<&'a str, NotifyError> {
        let name = name.map(str::trim).unwrap_or(&self.default);
        self.get(name)?;
        Ok(name)
    }

    /// The configured names, sorted.
    pub fn names(&self) -> Vec<&str> {
        self.by_name.keys().map(String::as_str).collect()
    }
}
