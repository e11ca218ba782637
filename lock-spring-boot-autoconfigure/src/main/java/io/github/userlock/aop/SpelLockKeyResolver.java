package io.github.userlock.aop;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.BeanFactoryAware;
import org.springframework.context.expression.BeanFactoryResolver;
import org.springframework.context.expression.MethodBasedEvaluationContext;
import org.springframework.core.DefaultParameterNameDiscoverer;
import org.springframework.core.ParameterNameDiscoverer;
import org.springframework.expression.BeanResolver;
import org.springframework.expression.Expression;
import org.springframework.expression.ParseException;
import org.springframework.expression.spel.SpelNode;
import org.springframework.expression.spel.ast.FunctionReference;
import org.springframework.expression.spel.ast.VariableReference;
import org.springframework.expression.spel.standard.SpelExpression;
import org.springframework.expression.spel.standard.SpelExpressionParser;
import org.springframework.util.ObjectUtils;

/**
 * Resolves keys with SpEL. An expression sees the method's parameters by name
 * ({@code #uid}, which needs the {@code -parameters} compiler flag) and by position
 * ({@code #p0}, {@code #a0}), the {@link LockExpressionRoot} as {@code #root}, and beans
 * as {@code @name}. A value that is a collection or an array yields one key per element;
 * any other value yields its {@code toString()}.
 *
 * <p>
 * Each expression is parsed once and cached. {@link #validate} rejects expressions that
 * do not parse and variables that are neither a parameter, a position within the method's
 * arity, {@code #root} nor {@code #this}.
 */
public class SpelLockKeyResolver implements LockKeyResolver, BeanFactoryAware {

	/**
	 * Creates a resolver; bean references in expressions work once it has a bean factory.
	 */
	public SpelLockKeyResolver() {
	}

	private static final Pattern POSITIONAL = Pattern.compile("[pa](\\d+)");

	private final SpelExpressionParser parser = new SpelExpressionParser();

	private final ConcurrentMap<String, Expression> cache = new ConcurrentHashMap<>();

	private final ParameterNameDiscoverer parameterNames = new DefaultParameterNameDiscoverer();

	private @Nullable BeanResolver beanResolver;

	@Override
	public void setBeanFactory(BeanFactory beanFactory) {
		this.beanResolver = new BeanFactoryResolver(beanFactory);
	}

	@Override
	public void validate(String[] expressions, Method method, Class<?> targetClass) {
		if (expressions.length == 0) {
			throw new IllegalStateException("@UserLock on " + describe(method) + " declares no key expression");
		}
		String[] names = this.parameterNames.getParameterNames(method);
		for (String text : expressions) {
			if (text.isBlank()) {
				throw new IllegalStateException(
						"@UserLock on " + describe(method) + " has a blank key expression '" + text + "'");
			}
			Expression expression;
			try {
				expression = expression(text);
			}
			catch (ParseException ex) {
				throw new IllegalStateException("@UserLock on " + describe(method) + ": key expression '" + text
						+ "' does not parse: " + ex.getMessage(), ex);
			}
			if (expression instanceof SpelExpression spel) {
				Set<String> variables = new LinkedHashSet<>();
				collectVariables(spel.getAST(), variables);
				for (String variable : variables) {
					checkVariable(variable, text, method, names);
				}
			}
		}
	}

	@Override
	public Collection<String> resolveKeys(String[] expressions, Method method, @Nullable Object[] args,
			@Nullable Object target, Class<?> targetClass) {
		LockExpressionRoot root = new LockExpressionRoot(method, target, targetClass, args);
		MethodBasedEvaluationContext context = new MethodBasedEvaluationContext(root, method, args,
				this.parameterNames);
		if (this.beanResolver != null) {
			context.setBeanResolver(this.beanResolver);
		}
		List<String> keys = new ArrayList<>(expressions.length);
		for (String text : expressions) {
			Object value = expression(text).getValue(context);
			addKeys(value, text, method, keys);
		}
		return keys;
	}

	private Expression expression(String text) {
		Expression expression = this.cache.get(text);
		if (expression == null) {
			expression = this.parser.parseExpression(text);
			this.cache.putIfAbsent(text, expression);
		}
		return expression;
	}

	private static void addKeys(@Nullable Object value, String text, Method method, List<String> keys) {
		if (value instanceof Collection<?> || (value != null && value.getClass().isArray())) {
			Collection<?> elements = (value instanceof Collection<?> collection) ? collection
					: Arrays.asList(ObjectUtils.toObjectArray(value));
			if (elements.isEmpty()) {
				throw invalidKey(text, method, "an empty " + ((value instanceof Collection) ? "collection" : "array"));
			}
			for (Object element : elements) {
				keys.add(toKey(element, text, method, " element"));
			}
		}
		else {
			keys.add(toKey(value, text, method, ""));
		}
	}

	private static String toKey(@Nullable Object value, String text, Method method, String what) {
		if (value == null) {
			throw invalidKey(text, method, "a null" + what);
		}
		String key = value.toString();
		if (key == null || key.isBlank()) {
			throw invalidKey(text, method, "a blank" + what + " '" + key + "'");
		}
		return key;
	}

	private static IllegalArgumentException invalidKey(String text, Method method, String what) {
		return new IllegalArgumentException("@UserLock key expression '" + text + "' on " + describe(method)
				+ " evaluated to " + what + "; a lock key must not be null or blank");
	}

	private static void collectVariables(SpelNode node, Set<String> variables) {
		if (node instanceof VariableReference || node instanceof FunctionReference) {
			String ast = node.toStringAST();
			int end = ast.indexOf('(');
			variables.add(ast.substring(1, (end < 0) ? ast.length() : end));
		}
		for (int i = 0; i < node.getChildCount(); i++) {
			collectVariables(node.getChild(i), variables);
		}
	}

	private static void checkVariable(String variable, String text, Method method, @Nullable String[] names) {
		if (variable.equals("root") || variable.equals("this")) {
			return;
		}
		Matcher positional = POSITIONAL.matcher(variable);
		if (positional.matches()) {
			int index = Integer.parseInt(positional.group(1));
			if (index < method.getParameterCount()) {
				return;
			}
			throw new IllegalStateException(
					"@UserLock on " + describe(method) + ": key expression '" + text + "' refers to #" + variable
							+ " but the method has " + method.getParameterCount() + " parameter(s)");
		}
		if (names != null && Arrays.asList(names).contains(variable)) {
			return;
		}
		String known = (names != null)
				? Arrays.stream(names).map((name) -> "#" + name).collect(Collectors.joining(", "))
				: "parameter names are not available: compile with -parameters or use #p0, #p1, ...";
		throw new IllegalStateException("@UserLock on " + describe(method) + ": key expression '" + text
				+ "' refers to #" + variable + ", which is not a parameter of the method (" + known + ")");
	}

	/** {@code com.example.Service.redeem(String, long)}, for messages. */
	static String describe(Method method) {
		return method.getDeclaringClass().getName() + "." + method.getName() + "("
				+ Arrays.stream(method.getParameterTypes()).map(Class::getSimpleName).collect(Collectors.joining(", "))
				+ ")";
	}

}
