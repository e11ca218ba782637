package io.github.userlock.aop;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;

import org.jspecify.annotations.Nullable;

import org.springframework.aot.hint.ExecutableMode;
import org.springframework.aot.hint.ReflectionHints;
import org.springframework.beans.factory.aot.BeanRegistrationAotContribution;
import org.springframework.beans.factory.aot.BeanRegistrationAotProcessor;
import org.springframework.beans.factory.support.RegisteredBean;
import org.springframework.util.ClassUtils;
import org.springframework.util.ReflectionUtils;

/**
 * Registers, at AOT processing time, the {@code @UserLock} methods of every bean for
 * introspection: the advice reads their annotation and, for keys like {@code #uid}, their
 * parameter names at run time, which a native image only keeps for registered methods.
 */
final class UserLockBeanRegistrationAotProcessor implements BeanRegistrationAotProcessor {

	@Override
	public @Nullable BeanRegistrationAotContribution processAheadOfTime(RegisteredBean registeredBean) {
		Class<?> beanClass = ClassUtils.getUserClass(registeredBean.getBeanClass());
		List<Method> locked = lockedMethods(beanClass);
		if (locked.isEmpty()) {
			return null;
		}
		return (generationContext, code) -> {
			ReflectionHints reflection = generationContext.getRuntimeHints().reflection();
			for (Method method : locked) {
				reflection.registerMethod(method, ExecutableMode.INTROSPECT);
			}
		};
	}

	/**
	 * The methods of {@code type} (and those of its interfaces and superclasses it
	 * implements or overrides) that {@code @UserLock} applies to.
	 */
	static List<Method> lockedMethods(Class<?> type) {
		List<Method> locked = new ArrayList<>();
		ReflectionUtils.doWithMethods(type, (method) -> {
			if (LockOperations.findAnnotation(method, type) != null) {
				locked.add(method);
			}
		}, ReflectionUtils.USER_DECLARED_METHODS);
		for (Class<?> contract : ClassUtils.getAllInterfacesForClassAsSet(type)) {
			for (Method method : contract.getMethods()) {
				if (!method.isDefault() && LockOperations.findAnnotation(method, type) != null) {
					locked.add(method);
				}
			}
		}
		return locked;
	}

}
