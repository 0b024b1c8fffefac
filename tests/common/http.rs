//! What both loopback servers share (the git server and the npm/PyPI registry): the listener
//! with a thread per connection that stops when dropped, and the HTTP/1.1 framing (read one
//! request with its body, write one response, keep-alive rules).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// Live connections: a clone of each socket (to shut it on drop) and its thread.
type Connections = Arc<Mutex<Vec<(TcpStream, JoinHandle<()>)>>>;

/// Accepts connections on a free 127.0.0.1 port, each served on its own thread; when dropped,
/// the port is closed, connections are shut and their threads joined.
pub struct Listener {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    conns: Connections,
    accept: Option<JoinHandle<()>>,
}

impl Listener {
    /// Bind now; `serve` runs once per connection (I/O errors just end the connection).
    pub fn start(serve: impl Fn(TcpStream) + Send + Sync + 'static) -> Listener {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local addr");
        let stop = Arc::new(AtomicBool::new(false));
        let conns: Connections = Arc::default();
        let serve = Arc::new(serve);
        let (stop2, conns2) = (Arc::clone(&stop), Arc::clone(&conns));
        let accept = thread::spawn(move || {
            for stream in listener.incoming() {
                // Drop wakes us with a connection of its own after setting `stop`.
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let Ok(clone) = stream.try_clone() else {
                    continue;
                };
                let serve = Arc::clone(&serve);
                let h = thread::spawn(move || {
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
                    serve(stream);
                });
                let mut conns = conns2.lock().unwrap();
                conns.retain(|(_, h)| !h.is_finished());
                conns.push((clone, h));
            }
        });
        Listener {
            addr,
            stop,
            conns,
            accept: Some(accept),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr); // unblock accept()
        if let Some(h) = self.accept.take() {
            let _ = h.join(); // the listener (and so the port) is closed when this returns
        }
        // Shutting the sockets ends idle keep-alive reads and stalled writes; a thread inside a
        // request still waits for its backend, so no process outlives the server.
        let conns = std::mem::take(&mut *self.conns.lock().unwrap());
        for (stream, _) in &conns {
            let _ = stream.shutdown(Shutdown::Both);
        }
        for (_, h) in conns {
            let _ = h.join();
        }
    }
}

pub struct Request {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>, // names lower-cased
    pub body: Vec<u8>,
    pub keep_alive: bool,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `"<METHOD> <target>"`, as the servers log it.
    pub fn line(&self) -> String {
        format!("{} {}", self.method, self.target)
    }
}

/// Reads one request, body included (Content-Length or chunked). `None` at a clean EOF.
pub fn read_request<S: Read + Write>(rd: &mut BufReader<S>) -> io::Result<Option<Request>> {
    let bad = |m: &str| io::Error::new(io::ErrorKind::InvalidData, m.to_string());
    let mut line = String::new();
    while line.trim().is_empty() {
        line.clear();
        if rd.read_line(&mut line)? == 0 {
            return Ok(None);
        }
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("bad request line"));
    };
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if rd.read_line(&mut h)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':').ok_or_else(|| bad("bad header"))?;
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    let mut req = Request {
        method: method.to_string(),
        target: target.to_string(),
        keep_alive: false,
        headers,
        body: Vec::new(),
    };
    let connection = req.header("connection").unwrap_or("").to_ascii_lowercase();
    req.keep_alive = match version {
        "HTTP/1.1" => !connection.contains("close"),
        _ => connection.contains("keep-alive"),
    };
    if req
        .header("expect")
        .is_some_and(|e| e.eq_ignore_ascii_case("100-continue"))
    {
        rd.get_mut().write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }
    let chunked = req
        .header("transfer-encoding")
        .is_some_and(|t| t.to_ascii_lowercase().contains("chunked"));
    if chunked {
        loop {
            let mut size = String::new();
            rd.read_line(&mut size)?;
            let hex = size.split(';').next().unwrap_or("").trim(); // drop chunk extensions
            let n = usize::from_str_radix(hex, 16).map_err(|_| bad("bad chunk size"))?;
            if n == 0 {
                // Trailer fields (if any) up to the empty line.
                loop {
                    let mut t = String::new();
                    if rd.read_line(&mut t)? == 0 || t.trim().is_empty() {
                        break;
                    }
                }
                break;
            }
            let start = req.body.len();
            req.body.resize(start + n, 0);
            rd.read_exact(&mut req.body[start..])?;
            let mut crlf = String::new();
            rd.read_line(&mut crlf)?;
        }
    } else if let Some(n) = req.header("content-length") {
        let n: usize = n.parse().map_err(|_| bad("bad content-length"))?;
        req.body.resize(n, 0);
        rd.read_exact(&mut req.body)?;
    }
    Ok(Some(req))
}

/// Write one response to `req`. `status` is the status line's tail (`200 OK`); `body` is
/// `None` for answers that carry none and announce no length (304).
pub fn write_response<W: Write>(
    out: &mut W,
    req: &Request,
    status: &str,
    headers: &[(String, String)],
    body: Option<&[u8]>,
) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {status}\r\n");
    for (k, v) in headers {
        head += &format!("{k}: {v}\r\n");
    }
    if let Some(b) = body {
        head += &format!("Content-Length: {}\r\n", b.len());
    }
    let conn = if req.keep_alive {
        "keep-alive"
    } else {
        "close"
    };
    head += &format!("Connection: {conn}\r\n\r\n");
    out.write_all(head.as_bytes())?;
    if let Some(b) = body.filter(|_| req.method != "HEAD") {
        out.write_all(b)?;
    }
    out.flush()
}
