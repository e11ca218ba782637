/**
 * What every {@link io.github.userlock.LockRegistry} implementation shares: key
 * validation, re-entrancy, the local per-key queue and its reference-counted cleanup,
 * handles and loss notification. Not part of the user-facing API; public only so that the
 * engines in other packages can extend it.
 */
@NullMarked
package io.github.userlock.support;

import org.jspecify.annotations.NullMarked;
