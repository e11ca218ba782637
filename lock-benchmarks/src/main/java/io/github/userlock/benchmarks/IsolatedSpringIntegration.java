package io.github.userlock.benchmarks;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.jspecify.annotations.Nullable;

/**
 * The newest Spring Integration 7.1.x next to the one Boot 4.0.x manages, in one JVM. It
 * needs the Boot line that manages it (Spring Data Redis 4.1, whose API it calls; Boot
 * 4.1, Lettuce 7), so it runs with that whole stack in a class loader of its own: the
 * jars the build copies to {@code target/peers/spring-integration-7.1/} (see the pom;
 * never on the benchmark's class path), over the JDK's platform class loader. Inside it,
 * {@link SpringIntegrationInstance}, whose bytes are taken from the benchmark's classes,
 * builds each instance against those jars; the harness talks to it only through JDK
 * types.
 */
final class IsolatedSpringIntegration {

	/** Where the jars are, tried in order (the run's directory is the repository's). */
	static final List<Path> JAR_DIRECTORIES = List.of(Path.of("lock-benchmarks/target/peers/spring-integration-7.1"),
			Path.of("target/peers/spring-integration-7.1"));

	static final String INSTANCE_CLASS = SpringIntegrationInstance.class.getName();

	private static @Nullable ClassLoader loader;

	private IsolatedSpringIntegration() {
	}

	/**
	 * Starts an instance inside the class loader; see {@link SpringIntegrationInstance}.
	 */
	static Object open(Map<String, String> properties, long leaseMillis, String lockType, boolean renewal) {
		return call("open", new Class<?>[] { Map.class, Long.class, String.class, Boolean.class }, properties,
				leaseMillis, lockType, renewal);
	}

	/** The Spring Integration version inside the class loader. */
	static String version() {
		try {
			return (String) call("version", new Class<?>[0]);
		}
		catch (RuntimeException ex) {
			return "(not loadable: " + ex.getMessage() + ")";
		}
	}

	private static Object call(String method, Class<?>[] types, Object... args) {
		ClassLoader isolated = classLoader();
		Thread thread = Thread.currentThread();
		ClassLoader previous = thread.getContextClassLoader();
		thread.setContextClassLoader(isolated);
		try {
			return Class.forName(INSTANCE_CLASS, true, isolated).getMethod(method, types).invoke(null, args);
		}
		catch (InvocationTargetException ex) {
			throw new IllegalStateException("Spring Integration (newest) failed: " + ex.getCause(), ex.getCause());
		}
		catch (ReflectiveOperationException ex) {
			throw new IllegalStateException(ex);
		}
		finally {
			thread.setContextClassLoader(previous);
		}
	}

	static synchronized ClassLoader classLoader() {
		if (loader == null) {
			Path directory = JAR_DIRECTORIES.stream()
				.filter(Files::isDirectory)
				.findFirst()
				.orElseThrow(() -> new IllegalStateException("None of " + JAR_DIRECTORIES
						+ " exists: build lock-benchmarks with Maven (it copies the jars) and run from the repository"));
			try (Stream<Path> jars = Files.list(directory)) {
				URL[] urls = jars.filter((p) -> p.toString().endsWith(".jar"))
					.sorted()
					.map(IsolatedSpringIntegration::toUrl)
					.toArray(URL[]::new);
				loader = new Isolated(urls, IsolatedSpringIntegration.class.getClassLoader());
			}
			catch (IOException ex) {
				throw new UncheckedIOException(ex);
			}
		}
		return loader;
	}

	private static URL toUrl(Path jar) {
		try {
			return jar.toUri().toURL();
		}
		catch (MalformedURLException ex) {
			throw new IllegalStateException(ex);
		}
	}

	/**
	 * The jars over the platform class loader, plus {@link SpringIntegrationInstance}
	 * (and its nested classes) defined from the benchmark's class files.
	 */
	private static final class Isolated extends URLClassLoader {

		static {
			ClassLoader.registerAsParallelCapable();
		}

		private final ClassLoader benchmark;

		Isolated(URL[] urls, ClassLoader benchmark) {
			super("spring-integration-newest", urls, ClassLoader.getPlatformClassLoader());
			this.benchmark = benchmark;
		}

		@Override
		protected Class<?> findClass(String name) throws ClassNotFoundException {
			if (name.equals(INSTANCE_CLASS) || name.startsWith(INSTANCE_CLASS + "$")) {
				String resource = name.replace('.', '/') + ".class";
				try (InputStream in = this.benchmark.getResourceAsStream(resource)) {
					if (in == null) {
						throw new ClassNotFoundException(name);
					}
					byte[] bytes = in.readAllBytes();
					return defineClass(name, bytes, 0, bytes.length);
				}
				catch (IOException ex) {
					throw new ClassNotFoundException(name, ex);
				}
			}
			return super.findClass(name);
		}

		@Override
		public @Nullable URL findResource(String name) {
			URL url = super.findResource(name);
			if (url == null && name.startsWith(INSTANCE_CLASS.replace('.', '/'))) {
				return this.benchmark.getResource(name);
			}
			return url;
		}

	}

}
