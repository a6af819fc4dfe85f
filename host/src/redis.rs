//! A small Redis client (RESP2 over TCP) for the shared session store: one
//! connection, made on first use and again after a failure, commands sent
//! one at a time. Every command has a deadline ([`REDIS_TIMEOUT`]) and every
//! reply a size cap ([`MAX_REDIS_REPLY`]), so a slow or broken store costs
//! a request an error, never a stuck task or unbounded memory. It knows no
//! MCP.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::Mutex;

use crate::config::RedisTarget;

/// How long one Redis command (connecting included) may take.
pub const REDIS_TIMEOUT: Duration = Duration::from_secs(2);
/// The largest reply read from Redis, in bytes.
pub const MAX_REDIS_REPLY: usize = 1024 * 1024;

/// A reply from Redis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reply {
    Nil,
    Int(i64),
    Text(Vec<u8>),
    Array(Vec<Reply>),
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum RedisError {
    /// Connecting, writing or reading failed.
    #[error("redis at {address}: {source}")]
    Io {
        /// `host:port`.
        address: String,
        /// What went wrong.
        #[source]
        source: std::io::Error,
    },
    /// The command took longer than [`REDIS_TIMEOUT`].
    #[error(
        "redis at {address}: no answer within {} (REDIS_TIMEOUT)",
        crate::units::human_duration(REDIS_TIMEOUT)
    )]
    Timeout {
        /// `host:port`.
        address: String,
    },
    /// Redis answered with an error.
    #[error("redis at {address}: {message}")]
    Refused {
        /// `host:port`.
        address: String,
        /// Redis's error text.
        message: String,
    },
    /// The reply was not RESP, or larger than [`MAX_REDIS_REPLY`].
    #[error("redis at {address}: {reason}")]
    Protocol {
        /// `host:port`.
        address: String,
        /// What was wrong with it.
        reason: String,
    },
}

/// A Redis server, talked to over one connection.
#[derive(Debug)]
pub(crate) struct Redis {
    target: RedisTarget,
    connection: Mutex<Option<BufReader<TcpStream>>>,
    /// The largest reply read, and the name of that limit.
    max_reply: (usize, &'static str),
}

impl Redis {
    pub(crate) fn new(target: RedisTarget) -> Redis {
        Self::with_max_reply(target, MAX_REDIS_REPLY, "MAX_REDIS_REPLY")
    }

    /// A client whose replies may be up to `max` bytes (the limit `name`).
    pub(crate) fn with_max_reply(target: RedisTarget, max: usize, name: &'static str) -> Redis {
        Redis {
            target,
            connection: Mutex::new(None),
            max_reply: (max, name),
        }
    }

    /// Run one command; on any failure the connection is dropped (the next
    /// command makes a new one).
    pub(crate) async fn command(&self, args: &[&[u8]]) -> Result<Reply, RedisError> {
        let mut replies = self.pipeline(&[args]).await?;
        Ok(replies.pop().expect("one reply per command"))
    }

    /// Run `commands` in one round trip (each reply within the cap); the
    /// replies in order, or the first failure.
    pub(crate) async fn pipeline(&self, commands: &[&[&[u8]]]) -> Result<Vec<Reply>, RedisError> {
        // The wait for the connection counts against the deadline too. The
        // connection is taken out while in use and put back only after a
        // clean answer, so one abandoned mid-command (the deadline passed)
        // is closed, never reused out of step.
        let run = async {
            let mut slot = self.connection.lock().await;
            let mut connection = match slot.take() {
                Some(connection) => connection,
                None => self.connect().await?,
            };
            let answer = self.send(&mut connection, commands).await;
            if !matches!(
                answer,
                Err(RedisError::Io { .. } | RedisError::Protocol { .. })
            ) {
                *slot = Some(connection);
            }
            answer
        };
        match tokio::time::timeout(REDIS_TIMEOUT, run).await {
            Ok(answer) => answer,
            Err(_) => Err(RedisError::Timeout {
                address: self.target.address.clone(),
            }),
        }
    }

    async fn connect(&self) -> Result<BufReader<TcpStream>, RedisError> {
        let stream = TcpStream::connect(&self.target.address)
            .await
            .map_err(|source| self.io(source))?;
        let _ = stream.set_nodelay(true);
        let mut connection = BufReader::new(stream);
        if let Some(password) = &self.target.password {
            let mut auth: Vec<&[u8]> = vec![b"AUTH"];
            if let Some(user) = &self.target.username {
                auth.push(user.as_bytes());
            }
            auth.push(password.as_bytes());
            self.send(&mut connection, &[&auth]).await?;
        }
        if self.target.db != 0 {
            let db = self.target.db.to_string();
            self.send(&mut connection, &[&[b"SELECT", db.as_bytes()]])
                .await?;
        }
        Ok(connection)
    }

    /// Write `commands`, then read a reply to each. Every reply is read
    /// (errors too) so that the connection stays in step.
    async fn send(
        &self,
        connection: &mut BufReader<TcpStream>,
        commands: &[&[&[u8]]],
    ) -> Result<Vec<Reply>, RedisError> {
        let mut request = Vec::new();
        for args in commands {
            request.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
            for arg in *args {
                request.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
                request.extend_from_slice(arg);
                request.extend_from_slice(b"\r\n");
            }
        }
        connection
            .get_mut()
            .write_all(&request)
            .await
            .map_err(|source| self.io(source))?;
        let mut replies = Vec::with_capacity(commands.len());
        let mut refused = None;
        for _ in commands {
            let mut budget = self.max_reply.0;
            match self.read(connection, &mut budget, 0).await {
                Ok(reply) => replies.push(reply),
                Err(e @ RedisError::Refused { .. }) => {
                    refused.get_or_insert(e);
                }
                Err(e) => return Err(e),
            }
        }
        match refused {
            Some(e) => Err(e),
            None => Ok(replies),
        }
    }

    /// Read one reply, spending at most `budget` bytes on it.
    async fn read(
        &self,
        connection: &mut BufReader<TcpStream>,
        budget: &mut usize,
        depth: usize,
    ) -> Result<Reply, RedisError> {
        let line = self.line(connection, budget).await?;
        let (kind, rest) = line.split_at(1);
        let number = || {
            rest.parse::<i64>()
                .map_err(|_| self.protocol(format!("`{rest}` is not a length")))
        };
        match kind {
            "+" => Ok(Reply::Text(rest.as_bytes().to_vec())),
            "-" => Err(RedisError::Refused {
                address: self.target.address.clone(),
                message: rest.to_owned(),
            }),
            ":" => Ok(Reply::Int(number()?)),
            "$" => {
                let Ok(len) = usize::try_from(number()?) else {
                    return Ok(Reply::Nil);
                };
                self.spend(budget, len + 2)?;
                let mut data = vec![0; len + 2];
                connection
                    .read_exact(&mut data)
                    .await
                    .map_err(|source| self.io(source))?;
                data.truncate(len);
                Ok(Reply::Text(data))
            }
            "*" if depth < 4 => {
                let Ok(len) = usize::try_from(number()?) else {
                    return Ok(Reply::Nil);
                };
                self.spend(budget, len)?;
                let mut items = Vec::with_capacity(len);
                for _ in 0..len {
                    items.push(Box::pin(self.read(connection, budget, depth + 1)).await?);
                }
                Ok(Reply::Array(items))
            }
            _ => Err(self.protocol(format!("unexpected reply `{line}`"))),
        }
    }

    async fn line(
        &self,
        connection: &mut BufReader<TcpStream>,
        budget: &mut usize,
    ) -> Result<String, RedisError> {
        let mut line = Vec::new();
        let limit = (*budget).min(64 * 1024) as u64;
        let read = (&mut *connection)
            .take(limit)
            .read_until(b'\n', &mut line)
            .await
            .map_err(|source| self.io(source))?;
        self.spend(budget, read)?;
        if !line.ends_with(b"\r\n") || line.len() < 3 {
            return Err(match read {
                0 => self.io(std::io::ErrorKind::UnexpectedEof.into()),
                _ => self.protocol("a reply line is malformed or too long".into()),
            });
        }
        line.truncate(line.len() - 2);
        String::from_utf8(line).map_err(|_| self.protocol("a reply line is not UTF-8".into()))
    }

    fn spend(&self, budget: &mut usize, n: usize) -> Result<(), RedisError> {
        *budget = budget.checked_sub(n).ok_or_else(|| {
            let (max, name) = self.max_reply;
            self.protocol(format!(
                "a reply is larger than {} ({name})",
                crate::units::human_size(max as u64)
            ))
        })?;
        Ok(())
    }

    fn io(&self, source: std::io::Error) -> RedisError {
        RedisError::Io {
            address: self.target.address.clone(),
            source,
        }
    }

    fn protocol(&self, reason: String) -> RedisError {
        RedisError::Protocol {
            address: self.target.address.clone(),
            reason,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake server that answers every command with `reply`.
    async fn answering(reply: Vec<u8>) -> RedisTarget {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf).await;
            let _ = stream.write_all(&reply).await;
            // Keep the connection open: a short reply must not hang.
            tokio::time::sleep(Duration::from_secs(30)).await;
        });
        RedisTarget::parse(&format!("redis://{address}")).unwrap()
    }

    #[tokio::test]
    async fn a_huge_reply_is_refused_naming_the_cap() {
        let redis = Redis::new(answering(b"$999999999\r\n".to_vec()).await);
        let error = redis.command(&[b"GET", b"k"]).await.unwrap_err();
        assert!(error.to_string().contains("MAX_REDIS_REPLY"), "{error}");
    }

    #[tokio::test]
    async fn replies_are_read() {
        let redis = Redis::new(answering(b"*3\r\n$1\r\na\r\n:7\r\n$-1\r\n".to_vec()).await);
        let reply = redis.command(&[b"X"]).await.unwrap();
        assert_eq!(
            reply,
            Reply::Array(vec![Reply::Text(b"a".to_vec()), Reply::Int(7), Reply::Nil])
        );
    }

    #[tokio::test]
    async fn a_pipeline_reads_every_reply_in_order() {
        let redis = Redis::new(answering(b"+OK\r\n:1\r\n".to_vec()).await);
        let replies = redis.pipeline(&[&[b"SET", b"k", b"v"], &[b"EXPIRE", b"k", b"9"]]);
        assert_eq!(
            replies.await.unwrap(),
            vec![Reply::Text(b"OK".to_vec()), Reply::Int(1)]
        );
        // A refusal fails the pipeline, after the replies behind it are read.
        let redis = Redis::new(answering(b"-ERR no\r\n:1\r\n".to_vec()).await);
        let error = redis.pipeline(&[&[b"X"], &[b"Y"]]).await.unwrap_err();
        assert!(matches!(error, RedisError::Refused { .. }), "{error}");
        assert!(redis.connection.lock().await.is_some(), "still in step");
    }
}
