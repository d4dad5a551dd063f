//! A TCP proxy whose link can be cut and healed: the test's stand-in for a network partition
//! (no root, no namespaces). Cutting closes every open connection and refuses new ones.
//!
//! Include with `#[path = "support/proxy.rs"] mod proxy;`.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
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
}

impl Proxy {
    /// Listens on a free port; forwards to `target` once set.
    pub async fn start(target: Option<SocketAddr>) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let target = Arc::new(Mutex::new(target));
        let (cut, _) = watch::channel(false);
        let proxy = Proxy {
            addr,
            target: target.clone(),
            cut: cut.clone(),
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
                tokio::spawn(async move {
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
    pub fn cut(&self) {
        self.cut.send_replace(true);
    }

    /// Lets connections through again.
    pub fn heal(&self) {
        self.cut.send_replace(false);
    }
}
