#!/bin/sh
cat "$1" > /tmp/kadump/fifo.out
