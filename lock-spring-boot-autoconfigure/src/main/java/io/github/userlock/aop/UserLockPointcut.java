package io.github.userlock.aop;

import java.lang.reflect.Method;

import io.github.userlock.UserLock;

import org.springframework.aop.ClassFilter;
import org.springframework.aop.support.StaticMethodMatcherPointcut;
import org.springframework.core.annotation.AnnotationUtils;

/**
 * Matches methods with {@code @UserLock} on the class method, on a method it overrides or implements
 * (interface or superclass), directly or as a meta-annotation.
 */
final class UserLockPointcut extends StaticMethodMatcherPointcut {

	UserLockPointcut() {
		setClassFilter((ClassFilter) (type) -> AnnotationUtils.isCandidateClass(type, UserLock.class));
	}

	@Override
	public boolean matches(Method method, Class<?> targetClass) {
		return LockOperations.findAnnotation(method, targetClass) != null;
	}

}
