//! A TCP proxy whose link can be cut and healed: the test's stand-in for a network partition
//! (no root, no namespaces). Cutting closes every open connection and refuses new ones.
//!
//! Include with `#[path = "support/proxy.rs"] mod proxy;`.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::{
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use tokio::{
    net::{TcpListener, TcpStream},
    sync::watch,
};

/// A proxy on 127.0.0.1 to a target set now or later.
pub struct Proxy {
    pub addr: SocketAddr,
    target: Arc<Mutex<Option<SocketAddr>>>,
    cut: watch::Sender<bool>,
    /// Connections being forwarded now.
    open: Arc<AtomicUsize>,
}

/// Counts a forwarded connection while it lives.
struct Open(Arc<AtomicUsize>);

impl Open {
    fn new(open: &Arc<AtomicUsize>) -> Self {
        open.fetch_add(1, Ordering::SeqCst);
        Open(open.clone())
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Proxy {
    /// Listens on a free port; forwards to `target` once set.
    pub async fn start(target: Option<SocketAddr>) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let target = Arc::new(Mutex::new(target));
        let (cut, _) = watch::channel(false);
        let open = Arc::new(AtomicUsize::new(0));
        let proxy = Proxy {
            addr,
            target: target.clone(),
            cut: cut.clone(),
            open: open.clone(),
        };
        tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                let to = *target.lock().unwrap();
                let mut cut_now = cut.subscribe();
                if *cut_now.borrow() {
                    drop(inbound);
                    continue;
                }
                let Some(to) = to else {
                    drop(inbound);
                    continue;
                };
                let open = Open::new(&open);
                tokio::spawn(async move {
                    let _open = open;
                    let Ok(outbound) = TcpStream::connect(to).await else {
                        return;
                    };
                    let (mut ri, mut wi) = inbound.into_split();
                    let (mut ro, mut wo) = outbound.into_split();
                    tokio::select! {
                        _ = tokio::io::copy(&mut ri, &mut wo) => {}
                        _ = tokio::io::copy(&mut ro, &mut wi) => {}
                        _ = cut_now.wait_for(|c| *c) => {}
                    }
                });
            }
        });
        proxy
    }

    /// Sets where connections go.
    pub fn set_target(&self, target: SocketAddr) {
        *self.target.lock().unwrap() = Some(target);
    }

    /// Closes every connection and refuses new ones.
    pub async fn cut(&self) {
        self.cut.send_replace(true);
        // Returns once every forwarded connection is closed: the forwarding tasks drop theirs
        // when they next run, which a busy test run can delay past the caller's next call.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while self.open.load(Ordering::SeqCst) > 0 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the proxy's connections did not close"
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    /// Lets connections through again.
    pub fn heal(&self) {
        self.cut.send_replace(false);
    }
}
