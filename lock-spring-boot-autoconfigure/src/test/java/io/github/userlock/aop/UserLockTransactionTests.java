package io.github.userlock.aop;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import javax.sql.DataSource;

import io.github.userlock.LockHandle;
import io.github.userlock.LockRegistry;
import io.github.userlock.UserLock;
import io.github.userlock.autoconfigure.LockAutoConfiguration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.SimpleDriverDataSource;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.annotation.EnableTransactionManagement;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The lock advice wraps {@code @Transactional} by default, so the lock is released after
 * the commit and the next holder reads the committed value; with the transaction advice
 * ordered outside, it is not. Uses a real embedded database (H2) and its transaction
 * manager.
 */
@Timeout(60)
class UserLockTransactionTests {

	private static final ExecutorService probes = Executors.newCachedThreadPool();

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(LockAutoConfiguration.class))
		.withPropertyValues("lock.store=memory", "lock.wait-time=20s")
		.withBean(Balances.class);

	@AfterEach
	void clearProbes() {
		Balances.afterCommit.clear();
	}

	@Test
	void lockIsStillHeldWhenTheTransactionCommits() {
		this.runner.withUserConfiguration(Database.class, TransactionsAtDefaultOrder.class).run((context) -> {
			context.getBean(Balances.class).increment("alice");
			assertThat(Balances.afterCommit).containsExactly(true);
		});
	}

	@Test
	void transactionOrderedOutsideTheLockCommitsAfterTheRelease() {
		// the control: proves the probe can see the opposite order
		this.runner.withUserConfiguration(Database.class, TransactionsOutside.class).run((context) -> {
			context.getBean(Balances.class).increment("alice");
			assertThat(Balances.afterCommit).containsExactly(false);
		});
	}

	@Test
	void lockOrderPropertyCanPutTheLockInsideTheTransaction() {
		this.runner.withUserConfiguration(Database.class, TransactionsAtOrderZero.class)
			.withPropertyValues("lock.order=1")
			.run((context) -> {
				context.getBean(Balances.class).increment("alice");
				assertThat(Balances.afterCommit).containsExactly(false);
			});
	}

	@Test
	void nextHolderSeesTheCommittedValue() {
		this.runner.withUserConfiguration(Database.class, TransactionsAtDefaultOrder.class).run((context) -> {
			Balances balances = context.getBean(Balances.class);
			ExecutorService callers = Executors.newFixedThreadPool(6);
			try {
				List<Future<?>> calls = new ArrayList<>();
				for (int i = 0; i < 120; i++) {
					calls.add(callers.submit(() -> balances.increment("bob")));
				}
				for (Future<?> call : calls) {
					call.get(30, TimeUnit.SECONDS);
				}
			}
			finally {
				callers.shutdownNow();
			}
			assertThat(balances.amount("bob")).isEqualTo(120);
		});
	}

	@Configuration(proxyBeanMethods = false)
	static class Database {

		@Bean
		DataSource dataSource() {
			String url = "jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
			SimpleDriverDataSource dataSource = new SimpleDriverDataSource(new org.h2.Driver(), url);
			new JdbcTemplate(dataSource).execute("create table balance (uid varchar(64) primary key, amount int)");
			return dataSource;
		}

		@Bean
		JdbcTemplate jdbcTemplate(DataSource dataSource) {
			return new JdbcTemplate(dataSource);
		}

		@Bean
		PlatformTransactionManager transactionManager(DataSource dataSource) {
			return new DataSourceTransactionManager(dataSource);
		}

	}

	@Configuration(proxyBeanMethods = false)
	@EnableTransactionManagement
	static class TransactionsAtDefaultOrder {

	}

	@Configuration(proxyBeanMethods = false)
	@EnableTransactionManagement(order = Ordered.HIGHEST_PRECEDENCE)
	static class TransactionsOutside {

	}

	@Configuration(proxyBeanMethods = false)
	@EnableTransactionManagement(order = 0)
	static class TransactionsAtOrderZero {

	}

	public static class Balances {

		static final List<Boolean> afterCommit = new java.util.concurrent.CopyOnWriteArrayList<>();

		private final JdbcTemplate jdbc;

		private final LockRegistry registry;

		Balances(JdbcTemplate jdbc, LockRegistry registry) {
			this.jdbc = jdbc;
			this.registry = registry;
		}

		/**
		 * A read-modify-write that loses updates unless every caller sees the previous
		 * commit.
		 */
		@UserLock(key = "#uid")
		@Transactional
		public void increment(String uid) {
			BalanceRows.increment(this.jdbc, uid);
			if (uid.equals("alice")) {
				TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
					@Override
					public void afterCommit() {
						afterCommit.add(lockedElsewhere(uid));
					}
				});
			}
		}

		public int amount(String uid) {
			return this.jdbc.queryForObject("select amount from balance where uid = ?", Integer.class, uid);
		}

		private boolean lockedElsewhere(String key) {
			return CompletableFuture.supplyAsync(() -> {
				var handle = this.registry.tryAcquire(key);
				handle.ifPresent(LockHandle::release);
				return handle.isEmpty();
			}, probes).join();
		}

	}

}
