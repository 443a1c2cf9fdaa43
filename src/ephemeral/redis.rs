//! Redis store. Every key carries the configured prefix, so several deployments (or tests) can
//! share one Redis. Single use relies on GETDEL (Redis 6.2+), which is atomic on the server.

use std::time::Duration;

use redis::AsyncCommands;

use super::topology::{self, Conn, RedisMode};
use super::StoreError;

#[derive(Clone)]
pub struct RedisStore {
    conn: Conn,
    prefix: String,
    /// Sentinel and Cluster mode: how long a change that must survive a failover waits for a
    /// replica's acknowledgement (`WAIT`).
    replica_ack: Option<Duration>,
}

impl RedisStore {
    /// Connects, failing after `connect_timeout` when Redis does not answer. Commands get no
    /// more than `command_timeout` each; a reconnection is tried once, without waiting.
    pub async fn connect(
        mode: &RedisMode,
        urls: &[String],
        prefix: &str,
        (connect_timeout, command_timeout, replica_ack): (Duration, Duration, Duration),
    ) -> Result<Self, StoreError> {
        let conn = topology::connect(mode, urls, connect_timeout, command_timeout).await?;
        let store = RedisStore {
            conn,
            prefix: prefix.to_string(),
            replica_ack: (*mode != RedisMode::Single).then_some(replica_ack),
        };
        store.ping().await?;
        Ok(store)
    }

    /// The server's version, from `INFO server` (`redis_version:7.0.15`).
    /// In a Cluster the answer comes from every master; the oldest version counts.
    pub async fn version(&self) -> Result<Option<(u32, u32)>, StoreError> {
        let mut conn = self.conn.clone();
        let info: redis::Value = redis::cmd("INFO")
            .arg("server")
            .query_async(&mut conn)
            .await?;
        let mut texts = Vec::new();
        collect_text(&info, &mut texts);
        Ok(texts.iter().filter_map(|t| parse_version(t)).min())
    }

    fn key(&self, key: &str) -> String {
        format!("{}{}", self.prefix, key)
    }

    pub async fn put(&self, key: &str, value: &str, ttl: Duration) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let _: () = redis::cmd("SET")
            .arg(self.key(key))
            .arg(value)
            .arg("PX")
            .arg(ms)
            .query_async(&mut conn)
            .await?;
        Ok(())
    }

    pub async fn take(&self, key: &str) -> Result<Option<String>, StoreError> {
        let mut conn = self.conn.clone();
        Ok(redis::cmd("GETDEL")
            .arg(self.key(key))
            .query_async(&mut conn)
            .await?)
    }

    pub async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        let mut conn = self.conn.clone();
        Ok(conn.get(self.key(key)).await?)
    }

    pub async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let _: u64 = conn.del(self.key(key)).await?;
        Ok(())
    }

    pub async fn incr(&self, key: &str, window: Duration) -> Result<u64, StoreError> {
        let mut conn = self.conn.clone();
        let key = self.key(key);
        let ms = u64::try_from(window.as_millis()).unwrap_or(u64::MAX).max(1);
        // INCR and a PEXPIRE that only sets a TTL when none exists, in one round trip.
        let (count, _): (u64, i64) = redis::pipe()
            .atomic()
            .cmd("INCR")
            .arg(&key)
            .cmd("PEXPIRE")
            .arg(&key)
            .arg(ms)
            .arg("NX")
            .query_async(&mut conn)
            .await?;
        Ok(count)
    }

    pub async fn try_lock(
        &self,
        key: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let mut conn = self.conn.clone();
        let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let set: Option<String> = redis::cmd("SET")
            .arg(self.key(key))
            .arg(holder)
            .arg("NX")
            .arg("PX")
            .arg(ms)
            .query_async(&mut conn)
            .await?;
        Ok(set.is_some())
    }

    /// After a change that must survive a failover (a consumption, a deletion, a revocation):
    /// `WAIT 1` on the master of `key`. A replica acknowledged it: a promoted replica has it.
    /// None is connected: none can be promoted without it. One is connected but did not
    /// acknowledge in time: the change is not known to survive, and the caller answers 503
    /// (for a consumption the item is gone either way, never handed out twice).
    pub async fn confirm(&self, key: &str) -> Result<(), StoreError> {
        let Some(wait) = self.replica_ack else {
            return Ok(());
        };
        let key = self.key(key);
        let ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1);
        let acked = self
            .conn
            .on_master_of(&key, redis::cmd("WAIT").arg(1).arg(ms))
            .await?;
        if matches!(acked, redis::Value::Int(n) if n >= 1) {
            return Ok(());
        }
        let info = self
            .conn
            .on_master_of(&key, redis::cmd("INFO").arg("replication"))
            .await?;
        let mut texts = Vec::new();
        collect_text(&info, &mut texts);
        let connected = texts.iter().find_map(|t| {
            t.lines()
                .find_map(|l| l.trim().strip_prefix("connected_slaves:"))
                .and_then(|n| n.parse::<u32>().ok())
        });
        match connected {
            Some(0) => Ok(()),
            _ => Err(StoreError::NotReplicated),
        }
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let _: String = redis::cmd("PING").query_async(&mut conn).await?;
        Ok(())
    }
}

/// Every text in an answer (one `INFO` text, or a map of them from a Cluster's nodes).
fn collect_text(value: &redis::Value, out: &mut Vec<String>) {
    match value {
        redis::Value::BulkString(b) => out.push(String::from_utf8_lossy(b).into_owned()),
        redis::Value::VerbatimString { text, .. } | redis::Value::SimpleString(text) => {
            out.push(text.clone())
        }
        redis::Value::Array(items) | redis::Value::Set(items) => {
            items.iter().for_each(|v| collect_text(v, out))
        }
        redis::Value::Map(pairs) => pairs.iter().for_each(|(_, v)| collect_text(v, out)),
        _ => {}
    }
}

fn parse_version(info: &str) -> Option<(u32, u32)> {
    let version = info
        .lines()
        .find_map(|l| l.trim().strip_prefix("redis_version:"))?;
    let mut parts = version.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_the_version_from_info() {
        let info = "# Server\r\nredis_version:7.0.15\r\nredis_git_sha1:00000000\r\n";
        assert_eq!(super::parse_version(info), Some((7, 0)));
        assert_eq!(super::parse_version("redis_version:6.2.14"), Some((6, 2)));
        assert_eq!(super::parse_version("nothing"), None);
    }
}
