package io.github.userlock.test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import org.jspecify.annotations.Nullable;

/**
 * A TCP proxy on {@code 127.0.0.1} that sits between clients and a target port (normally a
 * {@link RedisServer}) and injects network faults, switchable at run time:
 * <ul>
 * <li>{@link #pass()}: forward bytes as they come (the initial mode);</li>
 * <li>{@link #delay(Duration)}: forward each chunk only after the delay;</li>
 * <li>{@link #blackhole()}: keep connections open, accept new ones, but forward nothing in either direction.
 * Held bytes are not lost: they are forwarded once the mode is back to pass or delay, as TCP would after a
 * partition heals;</li>
 * <li>{@link #cutAll()}: close every open connection now;</li>
 * <li>{@link #refuse(boolean)}: stop listening (new connections are refused) or listen again on the same
 * port.</li>
 * </ul>
 * Threads are daemons (one acceptor, two per connection); at most {@value #MAX_CONNECTIONS} connections are
 * open at a time (more are closed at once). {@link #close()} closes the listener and every connection.
 */
public final class FaultProxy implements AutoCloseable {

	/** Connections beyond this number are closed as soon as they are accepted. */
	public static final int MAX_CONNECTIONS = 256;

	private static final String HOST = "127.0.0.1";

	private static final int BUFFER_SIZE = 16 * 1024;

	private final int targetPort;

	private final int port;

	private final Object lock = new Object();

	private final Set<Link> links = ConcurrentHashMap.newKeySet();

	private final AtomicLong accepted = new AtomicLong();

	private final AtomicLong forwardedBytes = new AtomicLong();

	private volatile @Nullable ServerSocket listener;

	private volatile @Nullable Thread acceptor;

	private volatile Mode mode = Mode.PASS;

	private volatile Duration delay = Duration.ZERO;

	private volatile boolean closed;

	/**
	 * Open a proxy listening on a free port of {@code 127.0.0.1}, forwarding to {@code 127.0.0.1:targetPort}.
	 * @param targetPort the port to forward to
	 */
	public FaultProxy(int targetPort) {
		this.targetPort = targetPort;
		ServerSocket socket = bind(0);
		this.port = socket.getLocalPort();
		listen(socket);
	}

	/**
	 * Open a proxy in front of a server.
	 * @param server the server to forward to
	 * @return a new proxy in pass mode
	 */
	public static FaultProxy to(RedisServer server) {
		return new FaultProxy(server.port());
	}

	/**
	 * The port clients connect to.
	 * @return the listening port (stable across {@link #refuse(boolean)})
	 */
	public int port() {
		return this.port;
	}

	/**
	 * The port bytes are forwarded to.
	 * @return the target port
	 */
	public int targetPort() {
		return this.targetPort;
	}

	/**
	 * Forward bytes as they come; held bytes of a previous blackhole are released.
	 * @return this proxy
	 */
	public FaultProxy pass() {
		return switchTo(Mode.PASS, Duration.ZERO);
	}

	/**
	 * Forward each chunk read from either side only after {@code delay}.
	 * @param delay the added latency per chunk (per direction)
	 * @return this proxy
	 */
	public FaultProxy delay(Duration delay) {
		if (delay.isNegative()) {
			throw new IllegalArgumentException("delay must not be negative: " + delay);
		}
		return switchTo(Mode.DELAY, delay);
	}

	/**
	 * Forward nothing in either direction; connections, old and new, stay open and silent.
	 * @return this proxy
	 */
	public FaultProxy blackhole() {
		return switchTo(Mode.BLACKHOLE, Duration.ZERO);
	}

	/**
	 * Close every open connection now (both sides). New connections are still accepted unless
	 * {@link #refuse(boolean) refused}.
	 * @return this proxy
	 */
	public FaultProxy cutAll() {
		for (Link link : this.links) {
			link.close();
		}
		return this;
	}

	/**
	 * Stop listening, so new connections are refused by the OS, or listen again on the same port. Open
	 * connections are not affected (see {@link #cutAll()}).
	 * @param refuse {@code true} to refuse new connections
	 * @return this proxy
	 */
	public FaultProxy refuse(boolean refuse) {
		Thread stopped = null;
		synchronized (this.lock) {
			if (this.closed) {
				throw new IllegalStateException("proxy is closed");
			}
			if (refuse) {
				stopped = stopListening();
			}
			else if (this.listener == null) {
				listen(bind(this.port));
			}
		}
		awaitTermination(stopped);
		return this;
	}

	/**
	 * The number of currently open proxied connections.
	 * @return the open connection count
	 */
	public int openConnections() {
		return this.links.size();
	}

	/**
	 * The number of connections accepted since the proxy opened (a reconnecting client increments it).
	 * @return the accepted connection count
	 */
	public long acceptedConnections() {
		return this.accepted.get();
	}

	/**
	 * The number of bytes forwarded in both directions since the proxy opened.
	 * @return the byte count
	 */
	public long forwardedBytes() {
		return this.forwardedBytes.get();
	}

	/**
	 * Whether {@link #close()} was called.
	 * @return {@code true} if closed
	 */
	public boolean isClosed() {
		return this.closed;
	}

	/**
	 * Stop listening and close every connection. Idempotent.
	 */
	@Override
	public void close() {
		Thread stopped;
		synchronized (this.lock) {
			this.closed = true;
			stopped = stopListening();
			this.lock.notifyAll();
		}
		awaitTermination(stopped);
		cutAll();
	}

	@Override
	public String toString() {
		return "FaultProxy[" + this.port + " -> " + this.targetPort + ", " + this.mode
				+ (this.mode == Mode.DELAY ? " " + this.delay : "") + ", " + this.links.size() + " open]";
	}

	private FaultProxy switchTo(Mode mode, Duration delay) {
		synchronized (this.lock) {
			this.delay = delay;
			this.mode = mode;
			this.lock.notifyAll();
		}
		return this;
	}

	private static ServerSocket bind(int port) {
		try {
			ServerSocket socket = new ServerSocket();
			socket.setReuseAddress(true);
			socket.bind(new InetSocketAddress(InetAddress.getByName(HOST), port), 50);
			return socket;
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Cannot listen on " + HOST + ":" + port, ex);
		}
	}

	private void listen(ServerSocket socket) {
		this.listener = socket;
		Thread acceptor = new Thread(() -> acceptLoop(socket), "fault-proxy-accept-" + this.port);
		acceptor.setDaemon(true);
		this.acceptor = acceptor;
		acceptor.start();
	}

	private @Nullable Thread stopListening() {
		ServerSocket current = this.listener;
		Thread thread = this.acceptor;
		this.listener = null;
		this.acceptor = null;
		if (current != null) {
			closeQuietly(current);
		}
		return thread;
	}

	/**
	 * The JDK releases a listening socket only once the thread blocked in accept() has returned; until then new
	 * connections can still be accepted, so wait for the acceptor to end before reporting "refused".
	 */
	private static void awaitTermination(@Nullable Thread thread) {
		if (thread == null || thread == Thread.currentThread()) {
			return;
		}
		try {
			thread.join(2000);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	private void acceptLoop(ServerSocket socket) {
		while (!socket.isClosed()) {
			Socket client;
			try {
				client = socket.accept();
			}
			catch (IOException ex) {
				return;
			}
			if (this.closed || this.listener != socket) {
				// accepted while the listener was being closed: behave as refused
				closeQuietly(client);
				continue;
			}
			this.accepted.incrementAndGet();
			if (this.links.size() >= MAX_CONNECTIONS) {
				closeQuietly(client);
				continue;
			}
			Socket upstream = new Socket();
			try {
				client.setTcpNoDelay(true);
				upstream.setTcpNoDelay(true);
				upstream.connect(new InetSocketAddress(HOST, this.targetPort), 2000);
			}
			catch (IOException ex) {
				closeQuietly(client);
				closeQuietly(upstream);
				continue;
			}
			Link link = new Link(client, upstream);
			this.links.add(link);
			if (this.closed) {
				link.close();
				continue;
			}
			link.start();
		}
	}

	/**
	 * Block until the current mode lets a chunk read at {@code readNanos} through, or the link is closed.
	 * @return {@code false} if the link or proxy closed while waiting
	 */
	private boolean awaitForwarding(Link link, long readNanos) throws InterruptedException {
		synchronized (this.lock) {
			while (true) {
				if (this.closed || link.closed) {
					return false;
				}
				Mode current = this.mode;
				if (current == Mode.PASS) {
					return true;
				}
				if (current == Mode.BLACKHOLE) {
					this.lock.wait(100);
					continue;
				}
				long remainingNanos = readNanos + this.delay.toNanos() - System.nanoTime();
				if (remainingNanos <= 0) {
					return true;
				}
				long millis = Math.max(1, Math.min(100, remainingNanos / 1_000_000));
				this.lock.wait(millis);
			}
		}
	}

	private static void closeQuietly(java.io.Closeable closeable) {
		try {
			closeable.close();
		}
		catch (IOException ex) {
			// closing anyway
		}
	}

	private enum Mode {

		PASS, DELAY, BLACKHOLE

	}

	private final class Link {

		private final Socket client;

		private final Socket upstream;

		private volatile boolean closed;

		Link(Socket client, Socket upstream) {
			this.client = client;
			this.upstream = upstream;
		}

		void start() {
			startPump(this.client, this.upstream, "up");
			startPump(this.upstream, this.client, "down");
		}

		private void startPump(Socket from, Socket to, String direction) {
			Thread thread = new Thread(() -> pump(from, to), "fault-proxy-" + FaultProxy.this.port + "-" + direction
					+ "-" + from.getPort());
			thread.setDaemon(true);
			thread.start();
		}

		private void pump(Socket from, Socket to) {
			byte[] buffer = new byte[BUFFER_SIZE];
			try {
				InputStream in = from.getInputStream();
				OutputStream out = to.getOutputStream();
				while (!this.closed) {
					int n = in.read(buffer);
					if (n < 0) {
						break;
					}
					if (!awaitForwarding(this, System.nanoTime())) {
						break;
					}
					out.write(buffer, 0, n);
					out.flush();
					FaultProxy.this.forwardedBytes.addAndGet(n);
				}
			}
			catch (IOException ex) {
				// the connection is gone; close both sides below
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
			finally {
				close();
			}
		}

		void close() {
			this.closed = true;
			FaultProxy.this.links.remove(this);
			closeQuietly(this.client);
			closeQuietly(this.upstream);
			synchronized (FaultProxy.this.lock) {
				FaultProxy.this.lock.notifyAll();
			}
		}

	}

}
