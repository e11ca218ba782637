/**
 * The Actuator endpoint {@code locks}: the locks this instance holds, and Redis's view of
 * any key. Used only when Spring Boot Actuator is on the class path.
 */
@NullMarked
package io.github.userlock.actuate;

import org.jspecify.annotations.NullMarked;
