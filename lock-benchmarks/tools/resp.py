# A minimal blocking RESP client for the tools beside it (script-cost.py, acquire-ab.py): one connection to a
# redis-server on 127.0.0.1, commands sent one at a time or pipelined, and the EVALSHA line of INFO commandstats.
import socket


def enc(*a):
    """One command in RESP, its arguments as bytes or anything str() turns into text."""
    out = b'*%d\r\n' % len(a)
    for x in a:
        x = x if isinstance(x, bytes) else str(x).encode()
        out += b'$%d\r\n%s\r\n' % (len(x), x)
    return out


class Redis:

    def __init__(self, port):
        self.sock = socket.create_connection(('127.0.0.1', port))
        self.file = self.sock.makefile('rb')

    def read(self):
        """The next answer; a simple string, an error (without its '-') or an integer as bytes."""
        line = self.file.readline()
        t = line[:1]
        if t in (b'+', b'-', b':'):
            return line[1:-2]
        if t == b'$':
            n = int(line[1:-2])
            return None if n < 0 else self.file.read(n + 2)[:-2]
        if t == b'*':
            return [self.read() for _ in range(int(line[1:-2]))]
        raise ValueError('not a RESP answer: %r' % line)

    def cmd(self, *a):
        self.sock.sendall(enc(*a))
        return self.read()

    def pipe(self, commands):
        """Sends the encoded commands in one write and returns their answers."""
        self.sock.sendall(b''.join(commands))
        return [self.read() for _ in commands]

    def evalsha_stats(self):
        """(calls, usec) of EVALSHA since the last CONFIG RESETSTAT, from INFO commandstats."""
        for line in self.cmd('INFO', 'commandstats').decode().split('\r\n'):
            if line.startswith('cmdstat_evalsha:'):
                d = dict(x.split('=') for x in line.split(':', 1)[1].split(','))
                return int(d['calls']), int(d['usec'])
        return 0, 0
