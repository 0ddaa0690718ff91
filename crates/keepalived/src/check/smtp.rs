//! SMTP_CHECK's socket (keepalived `smtp_connect_thread`, `smtp_check_thread`,
//! `smtp_get_line_cb`, `smtp_put_line_cb`): a non-blocking connect with
//! TCP_CHECK's options, then the dialogue of `keepalived_check::smtp`. Each
//! step (connect, every read, every write) has `connect_timeout`.

use super::proto::{failure, pair, Begin, Labels, Progress};
use super::tcp::{is_connect_fail, setup, TcpTarget};
use keepalived_check::smtp::{self as dialog, Dialog, Step};
use keepalived_check::CheckOutcome;
use mio::net::TcpStream;
use socket2::{Domain, SockAddr, Socket, Type};
use std::io::{self, Read, Write};
use std::time::Duration;
use tracing::info;

#[derive(Debug, PartialEq, Eq)]
enum State {
    Connecting,
    Reading,
    Writing(Vec<u8>),
}

pub struct Smtp {
    stream: TcpStream,
    state: State,
    dialog: Dialog,
    server: String,
}

/// The socket, set up and connecting. keepalived's texts for each way it
/// fails; `Err(None)`: not run, reschedule.
fn connect(t: &TcpTarget, rs: &str) -> Result<Socket, Option<CheckOutcome>> {
    let Ok(sock) = Socket::new(Domain::for_address(t.dst), Type::STREAM.nonblocking().cloexec(), None) else {
        info!("SMTP_CHECK connection failed to create socket. Rescheduling.");
        return Err(None);
    };
    if let Err(e) = sock.set_linger(Some(Duration::from_secs(5))) {
        info!("Failed to set SO_LINGER for socket - {e}");
    }
    let bind_failed = || {
        info!("SMTP_CHECK socket bind failed. Rescheduling.");
        None
    };
    setup(&sock, t).map_err(|()| bind_failed())?;
    match sock.connect(&SockAddr::from(t.dst)) {
        Ok(()) => Ok(sock),
        Err(e) if e.raw_os_error() == Some(nix::errno::Errno::EINPROGRESS as i32) => Ok(sock),
        Err(e) if is_connect_fail(&e) => {
            let text = dialog::unreachable(&pair(&t.dst), rs);
            Err(Some(failure(Some(text))))
        }
        Err(_) => Err(bind_failed()),
    }
}

impl Smtp {
    /// `rs`: the real server as `[ip]:port`.
    pub fn start(t: &TcpTarget, helo: &str, l: &Labels) -> Begin<Smtp> {
        let sock = match connect(t, &l.rs_pair) {
            Ok(s) => s,
            Err(Some(r)) => return Begin::Done(r),
            Err(None) => return Begin::Reschedule,
        };
        let server = pair(&t.dst);
        let stream = TcpStream::from_std(std::net::TcpStream::from(sock));
        Begin::Pending(Smtp { stream, state: State::Connecting, dialog: Dialog::new(helo, &server), server })
    }

    pub fn source(&mut self) -> &mut TcpStream {
        &mut self.stream
    }

    fn fail(text: String) -> Progress {
        Progress::Done(failure(Some(text)))
    }

    /// Drive the exchange as far as the socket allows.
    pub fn on_ready(&mut self) -> Progress {
        let mut moved = false;
        if self.state == State::Connecting {
            match self.connected() {
                // The banner gets a whole connect_timeout of its own.
                Some(Ok(())) => (self.state, moved) = (State::Reading, true),
                Some(Err(text)) => return Smtp::fail(text),
                None => return Progress::Wait(false),
            }
        }
        loop {
            let step = match std::mem::replace(&mut self.state, State::Reading) {
                State::Writing(bytes) => self.write(bytes),
                _ => self.read(),
            };
            match step {
                Ok(Some(Step::Done(Ok(())))) => return Progress::Done(CheckOutcome::Success),
                Ok(Some(Step::Done(Err(text)))) => return Smtp::fail(text),
                Ok(Some(Step::Write(bytes))) => self.state = State::Writing(bytes),
                Ok(Some(Step::Read)) => {}
                Ok(None) => return Progress::Wait(moved),
                Err(text) => return Smtp::fail(text),
            }
            moved = true;
        }
    }

    /// The connect's outcome: `None` while still connecting.
    fn connected(&self) -> Option<Result<(), String>> {
        use nix::errno::Errno;
        match self.stream.take_error() {
            Ok(None) => match self.stream.peer_addr() {
                Ok(_) => Some(Ok(())),
                Err(e) if e.kind() == io::ErrorKind::NotConnected => None,
                Err(_) => Some(Err(dialog::connect_failed(&self.server))),
            },
            Ok(Some(e)) if e.raw_os_error() == Some(Errno::EINPROGRESS as i32) => None,
            Ok(Some(e)) if e.raw_os_error() == Some(Errno::ETIMEDOUT as i32) => {
                Some(Err(dialog::connect_timeout(&self.server)))
            }
            Ok(Some(_)) => Some(Err(dialog::connect_failed(&self.server))),
            Err(_) => Some(Err(dialog::connect_error(&self.server))),
        }
    }

    /// One read: `Ok(None)` when nothing is there yet.
    fn read(&mut self) -> Result<Option<Step>, String> {
        let (room, log) = self.dialog.read_room();
        if let Some(line) = log {
            info!("{line}");
        }
        let mut buf = [0u8; dialog::BUFF_MAX];
        match self.stream.read(&mut buf[..room]) {
            Ok(0) => Err(self.dialog.read_failure()),
            Ok(n) => Ok(Some(self.dialog.on_data(&buf[..n]))),
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) => Ok(None),
            Err(_) => Err(self.dialog.read_failure()),
        }
    }

    /// One write of the whole line (a short write counts as done, as in 2.2.7).
    fn write(&mut self, bytes: Vec<u8>) -> Result<Option<Step>, String> {
        match self.stream.write(&bytes) {
            Ok(0) => Err(self.dialog.write_failure()),
            Ok(_) => Ok(Some(Step::Read)),
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) => {
                self.state = State::Writing(bytes);
                Ok(None)
            }
            Err(_) => Err(self.dialog.write_failure()),
        }
    }

    pub fn on_timeout(&self) -> CheckOutcome {
        let text = match self.state {
            State::Connecting => dialog::connect_timeout(&self.server),
            State::Reading => self.dialog.read_timeout(),
            State::Writing(_) => format!("Write timeout to server {}", self.server),
        };
        failure(Some(text))
    }
}
