# keepalived-rs: build and install for distributions without the Debian
# package (`cargo deb -p keepalived`, see packaging/).
#
#   make                      # cargo build --release
#   make install              # into /usr/local (PREFIX) under DESTDIR
#   make install PREFIX=/usr DESTDIR=/tmp/root
#   make uninstall
#
# Installs keepalived into $(SBINDIR), genhash as a symbolic link to it
# (the binary acts as genhash when called by that name), the man pages, the
# systemd unit (its ExecStart pointing at $(SBINDIR)) and a sample
# configuration as $(SYSCONFDIR)/keepalived/keepalived.conf.sample, never
# overwriting keepalived.conf.

PREFIX        ?= /usr/local
SBINDIR       ?= $(PREFIX)/sbin
BINDIR        ?= $(PREFIX)/bin
MANDIR        ?= $(PREFIX)/share/man
DOCDIR        ?= $(PREFIX)/share/doc/keepalived-rs
SYSCONFDIR    ?= /etc
UNITDIR       ?= $(PREFIX)/lib/systemd/system
CARGO         ?= cargo
TARGET_DIR    ?= target
INSTALL       ?= install

BIN := $(TARGET_DIR)/release/keepalived
MAN_PAGES := man/keepalived.8 man/genhash.1 $(wildcard man/keepalived.conf.5)

.PHONY: all build install uninstall

all: build

build:
	$(CARGO) build --release --locked -p keepalived

$(BIN):
	$(CARGO) build --release --locked -p keepalived

install: $(BIN)
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(SYSCONFDIR)/keepalived $(DESTDIR)$(DOCDIR)
	$(INSTALL) -m 755 $(BIN) $(DESTDIR)$(SBINDIR)/keepalived
	ln -sf $(shell realpath -m --relative-to=$(BINDIR) $(SBINDIR)/keepalived) $(DESTDIR)$(BINDIR)/genhash
	for p in $(MAN_PAGES); do \
		s=$${p##*.}; $(INSTALL) -d $(DESTDIR)$(MANDIR)/man$$s; \
		$(INSTALL) -m 644 $$p $(DESTDIR)$(MANDIR)/man$$s/; \
	done
	sed 's|/usr/sbin/keepalived|$(SBINDIR)/keepalived|' systemd/keepalived.service \
		> $(DESTDIR)$(UNITDIR)/keepalived.service
	chmod 644 $(DESTDIR)$(UNITDIR)/keepalived.service
	$(INSTALL) -m 644 keepalived.conf.example $(DESTDIR)$(SYSCONFDIR)/keepalived/keepalived.conf.sample
	$(INSTALL) -m 644 README.md docs/compat.md $(DESTDIR)$(DOCDIR)/

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/keepalived $(DESTDIR)$(BINDIR)/genhash \
		$(DESTDIR)$(UNITDIR)/keepalived.service \
		$(DESTDIR)$(SYSCONFDIR)/keepalived/keepalived.conf.sample
	rm -f $(DESTDIR)$(MANDIR)/man8/keepalived.8 $(DESTDIR)$(MANDIR)/man1/genhash.1 \
		$(DESTDIR)$(MANDIR)/man5/keepalived.conf.5
	rm -rf $(DESTDIR)$(DOCDIR)
