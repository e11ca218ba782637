package io.github.userlock.aop;

import java.util.List;

import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The transactional tests' protected resource: a read-modify-write of a balance row that
 * loses updates unless every caller sees the previous commit.
 */
final class BalanceRows {

	private BalanceRows() {
	}

	static void increment(JdbcTemplate jdbc, String uid) {
		List<Integer> current = jdbc.queryForList("select amount from balance where uid = ?", Integer.class, uid);
		if (current.isEmpty()) {
			jdbc.update("insert into balance (uid, amount) values (?, 1)", uid);
		}
		else {
			jdbc.update("update balance set amount = ? where uid = ?", current.get(0) + 1, uid);
		}
	}

}
