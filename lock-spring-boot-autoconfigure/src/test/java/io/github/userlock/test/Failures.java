package io.github.userlock.test;

import java.util.ArrayDeque;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/** Reading what a failure says, for tests. */
public final class Failures {

	private Failures() {
	}

	/**
	 * The messages of {@code failure}, its causes and their suppressed exceptions, one
	 * per line.
	 */
	public static String messages(Throwable failure) {
		StringBuilder text = new StringBuilder();
		ArrayDeque<Throwable> todo = new ArrayDeque<>(List.of(failure));
		Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
		while (!todo.isEmpty()) {
			Throwable t = todo.poll();
			if (seen.add(t)) {
				text.append(t.getMessage()).append('\n');
				if (t.getCause() != null) {
					todo.add(t.getCause());
				}
				todo.addAll(List.of(t.getSuppressed()));
			}
		}
		return text.toString();
	}

}
