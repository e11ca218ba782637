package io.github.userlock.reliability;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Reading a log while its worker appends to it: a line whose end is not written yet is
 * not read, and is read whole once it is.
 */
@Timeout(10)
class HistoryLogTests {

	@TempDir
	Path dir;

	@Test
	void aLineWithoutItsEndIsLeftForTheNextRead() throws IOException {
		Path log = this.dir.resolve("worker-0.log");
		try (OutputStream out = Files.newOutputStream(log, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
			out.write("U\t1\t2\nR\tk\t3\t10\t17964273".getBytes(StandardCharsets.UTF_8));
			out.flush();
			assertThat(History.completeLines(log)).containsExactly("U\t1\t2");
			out.write("37544252\t-1\t0\tW\t7\t1\n".getBytes(StandardCharsets.UTF_8));
			out.flush();
			assertThat(History.completeLines(log)).containsExactly("U\t1\t2",
					"R\tk\t3\t10\t1796427337544252\t-1\t0\tW\t7\t1");
		}
	}

	@Test
	void aLogNotCreatedYetHasNoLines() {
		assertThat(History.completeLines(this.dir.resolve("worker-9.log"))).isEmpty();
	}

}
