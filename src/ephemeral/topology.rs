//! How the Redis store reaches Redis (`redis.mode`): one server, a master found through
//! Sentinel, or a Cluster. Each gives one connection type ([`Conn`]) that the store's commands
//! run on; every key the store writes is used alone in its command (or in a pipeline on that one
//! key), so every command works in a Cluster.
//!
//! - `single`: redis-rs's connection manager, which reconnects by itself.
//! - `sentinel`: the master the Sentinels name, behind a connection manager. A command that
//!   fails because the master went away (or now answers READONLY, having become a replica)
//!   makes the store ask the Sentinels again ([`Reconnecting`]).
//! - `cluster`: redis-rs's cluster connection, which follows MOVED; after a failure a failover
//!   explains, the slot map is read again from the seed nodes ([`Reconnecting`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr};
use redis::sentinel::{SentinelClient, SentinelNodeConnectionInfo, SentinelServerType};
use redis::{Cmd, IntoConnectionInfo, Pipeline, RedisError, RedisFuture, RedisResult, Value};

use super::StoreError;

/// `redis.mode`, with what each mode needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedisMode {
    Single,
    Sentinel { master: String },
    Cluster,
}

#[derive(Clone)]
pub enum Conn {
    Single(ConnectionManager),
    Sentinel(Reconnecting<ConnectionManager>),
    Cluster(Reconnecting<ClusterConnection>),
}

/// Connects in `mode` to `urls` (one URL in single mode; the Sentinels or the seed nodes
/// otherwise).
pub async fn connect(
    mode: &RedisMode,
    urls: &[String],
    connect_timeout: Duration,
    command_timeout: Duration,
) -> Result<Conn, StoreError> {
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(connect_timeout)
        .set_response_timeout(command_timeout)
        .set_number_of_retries(1)
        .set_max_delay(100);
    let connecting = async {
        Ok::<_, StoreError>(match mode {
            RedisMode::Single => {
                let client = redis::Client::open(urls[0].as_str())?;
                Conn::Single(ConnectionManager::new_with_config(client, config).await?)
            }
            RedisMode::Sentinel { master } => {
                Conn::Sentinel(sentinel(urls, master, config, connect_timeout).await?)
            }
            RedisMode::Cluster => {
                Conn::Cluster(cluster(urls, connect_timeout, command_timeout).await?)
            }
        })
    };
    tokio::time::timeout(connect_timeout, connecting)
        .await
        .map_err(|_| StoreError::Timeout)?
}

impl Conn {
    /// Runs `cmd` on the master that holds `key` (in a Cluster, the master of its slot; with
    /// Sentinel or one server, the only master), on the connection that wrote the key.
    pub async fn on_master_of(&self, key: &str, cmd: &Cmd) -> RedisResult<Value> {
        match self {
            Conn::Single(c) => cmd.query_async(&mut c.clone()).await,
            Conn::Sentinel(c) => cmd.query_async(&mut c.current()).await,
            Conn::Cluster(c) => {
                let route = Route::new(slot(key.as_bytes()), SlotAddr::Master);
                let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(route));
                c.noting(c.current().route_command(cmd, routing).await)
            }
        }
    }
}

/// The Cluster slot of a key: CRC16 (XMODEM) of the key, or of its hash tag (the part between
/// the first `{` and the next `}`, when not empty), modulo 16384.
pub fn slot(key: &[u8]) -> u16 {
    let tagged = key
        .iter()
        .position(|&b| b == b'{')
        .and_then(|open| {
            let rest = &key[open + 1..];
            rest.iter()
                .position(|&b| b == b'}')
                .filter(|&close| close > 0)
                .map(|close| &rest[..close])
        })
        .unwrap_or(key);
    let mut crc: u16 = 0;
    for &byte in tagged {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc % 16384
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Single(c) => c.req_packed_command(cmd),
            Conn::Sentinel(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Single(c) => c.req_packed_commands(cmd, offset, count),
            Conn::Sentinel(c) => c.req_packed_commands(cmd, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(c) => c.get_db(),
            Conn::Sentinel(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
        }
    }
}

/// A connection that is made again, from scratch, after a failure a failover explains: for
/// Sentinel, the master the Sentinels name now; for a Cluster, the slot map the surviving nodes
/// give now (redis-rs reconnects to a dead node's address, but learns of its promoted replica
/// only from a MOVED that a dead node never sends). One attempt at a time, at most one per
/// [`RETRY_EVERY`]; commands meanwhile fail fast and are answered 503 by the caller.
pub struct Reconnecting<C>(Arc<Shared<C>>);

impl<C> Clone for Reconnecting<C> {
    fn clone(&self) -> Self {
        Reconnecting(self.0.clone())
    }
}

type Connector<C> = Box<dyn Fn() -> BoxFuture<'static, RedisResult<C>> + Send + Sync>;

struct Shared<C> {
    current: RwLock<C>,
    connect: Connector<C>,
    connect_timeout: Duration,
    busy: AtomicBool,
    last_attempt: Mutex<Option<Instant>>,
    what: &'static str,
}

/// How often a connection that keeps failing is made again.
const RETRY_EVERY: Duration = Duration::from_millis(250);

impl<C: ConnectionLike + Clone + Send + Sync + 'static> Reconnecting<C> {
    /// Connects once now (an error is the caller's), and again with `connect` after failures.
    async fn new(
        what: &'static str,
        connect: Connector<C>,
        connect_timeout: Duration,
    ) -> Result<Self, StoreError> {
        let first = connect().await?;
        Ok(Reconnecting(Arc::new(Shared {
            current: RwLock::new(first),
            connect,
            connect_timeout,
            busy: AtomicBool::new(false),
            last_attempt: Mutex::new(None),
            what,
        })))
    }

    fn current(&self) -> C {
        self.0
            .current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Passes `result` on, after noting a failure that calls for a reconnection.
    fn noting<T>(&self, result: RedisResult<T>) -> RedisResult<T> {
        if let Err(e) = &result {
            self.failed(e);
        }
        result
    }

    fn failed(&self, e: &RedisError) {
        use redis::ErrorKind::*;
        let failover = e.is_io_error()
            || e.is_connection_refusal()
            || e.is_connection_dropped()
            || e.is_timeout()
            || matches!(
                e.kind(),
                ReadOnly | ClusterDown | MasterDown | TryAgain | ClusterConnectionNotFound
            );
        if !failover || self.0.busy.swap(true, Ordering::AcqRel) {
            return;
        }
        {
            let mut last = self
                .0
                .last_attempt
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if last.is_some_and(|at| at.elapsed() < RETRY_EVERY) {
                self.0.busy.store(false, Ordering::Release);
                return;
            }
            *last = Some(Instant::now());
        }
        let shared = self.0.clone();
        tokio::spawn(async move {
            match tokio::time::timeout(shared.connect_timeout, (shared.connect)()).await {
                Ok(Ok(fresh)) => {
                    *shared.current.write().unwrap_or_else(|p| p.into_inner()) = fresh;
                    tracing::info!(redis = shared.what, "reconnected to Redis after a failure");
                }
                Ok(Err(e)) => {
                    tracing::warn!(redis = shared.what, error = %e, "Redis could not be reached again yet")
                }
                Err(_) => {
                    tracing::warn!(
                        redis = shared.what,
                        "Redis did not answer a reconnection in time"
                    )
                }
            }
            shared.busy.store(false, Ordering::Release);
        });
    }
}

impl<C: ConnectionLike + Clone + Send + Sync + 'static> ConnectionLike for Reconnecting<C> {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        Box::pin(async move { self.noting(self.current().req_packed_command(cmd).await) })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        let mut current = self.current();
        Box::pin(async move { self.noting(current.req_packed_commands(cmd, offset, count).await) })
    }

    fn get_db(&self) -> i64 {
        self.current().get_db()
    }
}

/// The master the Sentinels name, asked for again on each reconnection. The master and its
/// replicas take the credentials, database and TLS of the first URL.
async fn sentinel(
    urls: &[String],
    master: &str,
    config: ConnectionManagerConfig,
    connect_timeout: Duration,
) -> Result<Reconnecting<ConnectionManager>, StoreError> {
    let first = urls[0].as_str().into_connection_info()?;
    let node = SentinelNodeConnectionInfo {
        tls_mode: match first.addr {
            redis::ConnectionAddr::TcpTls { insecure, .. } => Some(if insecure {
                redis::TlsMode::Insecure
            } else {
                redis::TlsMode::Secure
            }),
            _ => None,
        },
        redis_connection_info: Some(first.redis.clone()),
    };
    let sentinels = Arc::new(tokio::sync::Mutex::new(SentinelClient::build(
        urls.to_vec(),
        master.to_string(),
        Some(node),
        SentinelServerType::Master,
    )?));
    let connect: Connector<ConnectionManager> = Box::new(move || {
        let (sentinels, config) = (sentinels.clone(), config.clone());
        Box::pin(async move {
            let client = sentinels.lock().await.async_get_client().await?;
            ConnectionManager::new_with_config(client, config).await
        })
    });
    Reconnecting::new("sentinel", connect, connect_timeout).await
}

/// The Cluster, its slot map read again from the seed nodes on each reconnection.
async fn cluster(
    urls: &[String],
    connect_timeout: Duration,
    command_timeout: Duration,
) -> Result<Reconnecting<ClusterConnection>, StoreError> {
    let client = ClusterClientBuilder::new(urls.to_vec())
        .connection_timeout(connect_timeout)
        .response_timeout(command_timeout)
        .retries(2)
        .min_retry_wait(50)
        .max_retry_wait(500)
        .build()?;
    let connect: Connector<ClusterConnection> = Box::new(move || {
        let client = client.clone();
        Box::pin(async move { client.get_async_connection().await })
    });
    Reconnecting::new("cluster", connect, connect_timeout).await
}

#[cfg(test)]
mod tests {
    use super::slot;

    #[test]
    fn slots_are_redis_cluster_slots() {
        // From the Redis Cluster specification and `CLUSTER KEYSLOT`.
        assert_eq!(slot(b"123456789"), 0x31C3);
        assert_eq!(slot(b"foo"), 12182);
        assert_eq!(slot(b"{user1000}.following"), slot(b"user1000"));
        assert_ne!(slot(b"foo{}{bar}"), slot(b"bar"));
    }
}
