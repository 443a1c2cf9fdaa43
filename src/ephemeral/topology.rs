//! How the Redis store reaches Redis (`redis.mode`): one server, a master found through
//! Sentinel, or a Cluster. Each gives one connection type ([`Conn`]) that the store's commands
//! run on; every key the store writes is used alone in its command (or in a pipeline on that one
//! key), so every command works in a Cluster.
//!
//! - `single`: redis-rs's connection manager, which reconnects by itself.
//! - `sentinel`: the master the Sentinels name, behind a connection manager. A command that
//!   fails because the master went away (or now answers READONLY, having become a replica)
//!   makes the store ask the Sentinels again, once at a time; commands meanwhile fail fast and
//!   are answered 503 by the caller.
//! - `cluster`: redis-rs's cluster connection, which follows MOVED and refreshes the slot map
//!   after a failover.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::sentinel::{SentinelClient, SentinelNodeConnectionInfo, SentinelServerType};
use redis::{Cmd, IntoConnectionInfo, Pipeline, RedisError, RedisFuture, Value};

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
    Sentinel(SentinelConn),
    Cluster(ClusterConnection),
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
                Conn::Sentinel(SentinelConn::connect(urls, master, config, connect_timeout).await?)
            }
            RedisMode::Cluster => {
                let client = ClusterClientBuilder::new(urls.to_vec())
                    .connection_timeout(connect_timeout)
                    .response_timeout(command_timeout)
                    .retries(2)
                    .min_retry_wait(50)
                    .max_retry_wait(500)
                    .build()?;
                Conn::Cluster(client.get_async_connection().await?)
            }
        })
    };
    tokio::time::timeout(connect_timeout, connecting)
        .await
        .map_err(|_| StoreError::Timeout)?
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

/// The master named by the Sentinels, asked again after a failure that a failover explains.
#[derive(Clone)]
pub struct SentinelConn(Arc<SentinelShared>);

struct SentinelShared {
    sentinels: tokio::sync::Mutex<SentinelClient>,
    master: RwLock<ConnectionManager>,
    config: ConnectionManagerConfig,
    connect_timeout: Duration,
    asking: AtomicBool,
}

impl SentinelConn {
    async fn connect(
        urls: &[String],
        master: &str,
        config: ConnectionManagerConfig,
        connect_timeout: Duration,
    ) -> Result<SentinelConn, StoreError> {
        // The master and replicas take the credentials, database and TLS of the first URL.
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
        let mut sentinels = SentinelClient::build(
            urls.to_vec(),
            master.to_string(),
            Some(node),
            SentinelServerType::Master,
        )?;
        let client = sentinels.async_get_client().await?;
        let manager = ConnectionManager::new_with_config(client, config.clone()).await?;
        let shared = SentinelShared {
            sentinels: tokio::sync::Mutex::new(sentinels),
            master: RwLock::new(manager),
            config,
            connect_timeout,
            asking: AtomicBool::new(false),
        };
        Ok(SentinelConn(Arc::new(shared)))
    }

    fn current(&self) -> ConnectionManager {
        self.0
            .master
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// After a failure a failover explains, asks the Sentinels for the master (one question at
    /// a time; the next failure asks again if this one found nothing new).
    fn failed(&self, e: &RedisError) {
        let failover = e.is_io_error()
            || e.is_connection_refusal()
            || e.is_connection_dropped()
            || e.is_timeout()
            || e.kind() == redis::ErrorKind::ReadOnly;
        if !failover || self.0.asking.swap(true, Ordering::AcqRel) {
            return;
        }
        let shared = self.0.clone();
        tokio::spawn(async move {
            let asked = tokio::time::timeout(shared.connect_timeout, async {
                let client = shared.sentinels.lock().await.async_get_client().await?;
                ConnectionManager::new_with_config(client, shared.config.clone()).await
            })
            .await;
            match asked {
                Ok(Ok(master)) => {
                    *shared.master.write().unwrap_or_else(|p| p.into_inner()) = master;
                }
                Ok(Err(e)) => tracing::warn!(error = %e, "the Sentinels named no reachable master"),
                Err(_) => tracing::warn!("the Sentinels did not answer in time"),
            }
            shared.asking.store(false, Ordering::Release);
        });
    }
}

impl ConnectionLike for SentinelConn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        Box::pin(async move {
            let result = self.current().req_packed_command(cmd).await;
            if let Err(e) = &result {
                self.failed(e);
            }
            result
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        Box::pin(async move {
            let result = self.current().req_packed_commands(cmd, offset, count).await;
            if let Err(e) = &result {
                self.failed(e);
            }
            result
        })
    }

    fn get_db(&self) -> i64 {
        self.current().get_db()
    }
}
