//! SMTP_CHECK's dialogue, sans-IO (keepalived `smtp_engine_thread`): read the banner (220), send
//! `HELO name`, read its answer (250), send `QUIT`, read one more line, done.
//!
//! Lines are read as 2.2.7 does: into a 512-byte buffer (wrapped with a log line when full), a line is
//! what precedes the first `\n` (looked for up to the first NUL byte); bytes after it are dropped when
//! the next line is awaited. A status is exactly three digits followed by the line's end or a space, so a
//! multi-line reply (`220-…`) is a bad status, as in 2.2.7.

/// keepalived's `SMTP_BUFF_MAX`.
pub const BUFF_MAX: usize = 512;

/// What to do next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Keep reading.
    Read,
    /// Write these bytes, then read.
    Write(Vec<u8>),
    /// The attempt is over: `Ok` or keepalived's failure text (after `SMTP_CHECK `).
    Done(Result<(), String>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Banner,
    Helo,
    Quit,
}

/// One attempt's dialogue with the server at `server` (`[ip]:port`, keepalived `FMT_SMTP_RS`).
#[derive(Clone, Debug)]
pub struct Dialog {
    state: State,
    buf: Vec<u8>,
    helo: String,
    server: String,
}

/// The three-digit status of a line, `None` when not legible (keepalived `smtp_get_status`).
pub fn status(line: &[u8]) -> Option<u16> {
    let digits = line.get(..3)?;
    if !digits.iter().all(u8::is_ascii_digit) || !matches!(line.get(3), None | Some(b' ')) {
        return None;
    }
    Some(digits.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0')))
}

impl Dialog {
    /// A dialogue awaiting the banner; `helo`: the name sent with `HELO` (`helo_name`, 2.2.7 default
    /// `smtpchecker.keepalived.org`); `server`: `[ip]:port` for the failure texts. Only the exact codes
    /// 220 (service ready) and 250 (completed) pass, not any 2yz reply; `QUIT`'s answer is not checked.
    pub fn new(helo: &str, server: &str) -> Dialog {
        Dialog {
            state: State::Banner,
            buf: Vec::with_capacity(BUFF_MAX),
            helo: helo.to_string(),
            server: server.to_string(),
        }
    }

    /// How many bytes the next read may take; `Some(line)` first when the buffer was full and has been
    /// wrapped (keepalived logs it).
    pub fn read_room(&mut self) -> (usize, Option<String>) {
        let mut log = None;
        if self.buf.len() >= BUFF_MAX - 1 {
            log = Some(format!(
                "SMTP_CHECK Buffer overflow reading from server {}. Increase SMTP_BUFF_MAX in check_smtp.h",
                self.server
            ));
            self.buf.clear();
        }
        (BUFF_MAX - 1 - self.buf.len(), log)
    }

    /// Bytes read (at most [`Dialog::read_room`] of them; more are ignored).
    pub fn on_data(&mut self, data: &[u8]) -> Step {
        let room = (BUFF_MAX - 1).saturating_sub(self.buf.len());
        self.buf.extend_from_slice(&data[..data.len().min(room)]);
        let text = self.buf.split(|b| *b == 0).next().unwrap_or(&[]);
        let Some(nl) = text.iter().position(|b| *b == b'\n') else { return Step::Read };
        let code = status(&text[..nl]);
        self.buf.clear();
        self.on_line(code)
    }

    fn on_line(&mut self, code: Option<u16>) -> Step {
        match self.state {
            State::Banner if code != Some(220) => self.fail("Bad greeting banner from server"),
            State::Banner => {
                self.state = State::Helo;
                Step::Write(format!("HELO {}\r\n", self.helo).into_bytes())
            }
            State::Helo if code != Some(250) => self.fail("Bad HELO response from server"),
            State::Helo => {
                self.state = State::Quit;
                Step::Write(b"QUIT\r\n".to_vec())
            }
            State::Quit => Step::Done(Ok(())),
        }
    }

    fn fail(&self, what: &str) -> Step {
        Step::Done(Err(format!("{what} {}", self.server)))
    }

    /// The connection closed or a read failed.
    pub fn read_failure(&self) -> String {
        format!("Read failure from server {}", self.server)
    }

    /// No complete line arrived within `connect_timeout`.
    pub fn read_timeout(&self) -> String {
        format!("Read timeout from server {}", self.server)
    }

    /// Sending `HELO` or `QUIT` failed (`write` returned an error or 0; 2.2.7 does not check for a
    /// short write).
    pub fn write_failure(&self) -> String {
        format!("Write failure to server {}", self.server)
    }
}

/// keepalived's texts for a failed connect (`smtp_check_thread`).
pub fn connect_timeout(server: &str) -> String {
    format!("Connection timeout to server {server}")
}

/// The connection was refused or otherwise failed (2.2.7's `connect_fail`).
pub fn connect_failed(server: &str) -> String {
    format!("Could not connect to server {server}")
}

/// The socket reported an error while connecting (2.2.7's `connect_error`).
pub fn connect_error(server: &str) -> String {
    format!("Error connecting to server {server}")
}

/// `connect()` failed at once (`smtp_connect_thread`).
pub fn unreachable(server: &str, rs: &str) -> String {
    format!("Network unreachable for server {server} - real server {rs}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dialog() -> Dialog {
        Dialog::new("smtpchecker.keepalived.org", "[10.0.0.1]:25")
    }

    #[test]
    fn full_dialogue() {
        let mut d = dialog();
        assert_eq!(d.on_data(b"220 mail ESMTP"), Step::Read);
        assert_eq!(d.on_data(b"\r\n"), Step::Write(b"HELO smtpchecker.keepalived.org\r\n".to_vec()));
        assert_eq!(d.on_data(b"250 hello\r\n"), Step::Write(b"QUIT\r\n".to_vec()));
        assert_eq!(d.on_data(b"221 bye\r\n"), Step::Done(Ok(())));
    }

    #[test]
    fn statuses() {
        assert_eq!(status(b"220"), Some(220));
        assert_eq!(status(b"220 x"), Some(220));
        assert_eq!(status(b"220\r"), None);
        assert_eq!(status(b"220-x"), None);
        assert_eq!(status(b"22"), None);
        assert_eq!(status(b"2200"), None);
        assert_eq!(status(b""), None);
    }

    #[test]
    fn multi_line_banner_is_bad_as_in_2_2_7() {
        let mut d = dialog();
        assert_eq!(
            d.on_data(b"220-first\r\n220 last\r\n"),
            Step::Done(Err("Bad greeting banner from server [10.0.0.1]:25".into()))
        );
    }

    #[test]
    fn refused_helo() {
        let mut d = dialog();
        d.on_data(b"220 x\r\n");
        assert_eq!(d.on_data(b"550 no\r\n"), Step::Done(Err("Bad HELO response from server [10.0.0.1]:25".into())));
    }

    #[test]
    fn nul_hides_newline_and_overflow_wraps() {
        let mut d = dialog();
        assert_eq!(d.on_data(b"220 a\0b\n"), Step::Read);
        let (room, log) = d.read_room();
        assert!(log.is_none());
        assert_eq!(d.on_data(&vec![b'x'; room + 100]), Step::Read);
        let (room, log) = d.read_room();
        assert_eq!(room, BUFF_MAX - 1);
        assert!(log.unwrap().starts_with("SMTP_CHECK Buffer overflow reading from server [10.0.0.1]:25."));
        assert_eq!(d.on_data(b"220 ok\n"), Step::Write(b"HELO smtpchecker.keepalived.org\r\n".to_vec()));
    }
}
