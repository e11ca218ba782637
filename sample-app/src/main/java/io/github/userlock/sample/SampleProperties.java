package io.github.userlock.sample;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Settings of the sample, under {@code sample.*}.
 * @param workDelay the pause between reading a balance and writing the new one: the window in which a
 * concurrent update is lost when nothing serialises the requests
 * @param embeddedRedis whether to start an embedded redis-server when nothing listens on
 * {@code spring.data.redis.port} of localhost
 */
@ConfigurationProperties("sample")
record SampleProperties(@DefaultValue("100ms") Duration workDelay, @DefaultValue("true") boolean embeddedRedis) {
}
