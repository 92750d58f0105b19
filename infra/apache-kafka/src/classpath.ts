/**
 * Where Apache Kafka's jars are: Maven resolves them from ../pom.xml into its local repository and writes
 * the classpath to target/classpath.txt. `.ci/run` does that once; a developer's first run does it here.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const POM = join(PACKAGE_DIR, 'pom.xml');
const CLASSPATH_FILE = join(PACKAGE_DIR, 'target', 'classpath.txt');

/** The Apache Kafka version pom.xml pins (its `kafka.version` property). */
export const KAFKA_VERSION: string = (() => {
  const match = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(readFileSync(POM, 'utf8'));
  if (match === null) throw new Error(`${POM} has no <kafka.version>`);
  return match[1]!;
})();

function onPath(command: string): boolean {
  return spawnSync(command, ['-version'], { stdio: 'ignore' }).status === 0;
}

let missing: string | null | undefined;

/**
 * Why Apache Kafka cannot run here (no `java`, no `mvn` and no resolved classpath, or Maven failing), or
 * null when it can. Tests skip with this reason; `.ci/run` installs what makes it null.
 */
export function apacheKafkaMissingReason(): string | null {
  if (missing !== undefined) return missing;
  if (!onPath('java')) return (missing = 'no `java` on PATH (Apache Kafka needs Java 17 or newer)');
  if (!classpathIsFresh()) {
    if (spawnSync('mvn', ['-v'], { stdio: 'ignore' }).status !== 0) return (missing = 'no `mvn` on PATH to resolve Apache Kafka from pom.xml');
    const result = spawnSync('mvn', ['-q', '-B', '-f', POM, 'dependency:build-classpath'], { encoding: 'utf8' });
    if (result.status !== 0 || !existsSync(CLASSPATH_FILE)) {
      return (missing = `mvn could not resolve Apache Kafka ${KAFKA_VERSION}: ${(result.stdout + result.stderr).trim().slice(-2000)}`);
    }
  }
  return (missing = null);
}

function classpathIsFresh(): boolean {
  if (!existsSync(CLASSPATH_FILE)) return false;
  // A pom.xml edited after the last resolution (another Kafka version) needs resolving again.
  if (statSync(CLASSPATH_FILE).mtimeMs < statSync(POM).mtimeMs) return false;
  return readFileSync(CLASSPATH_FILE, 'utf8').split(':').every((jar) => existsSync(jar));
}

/** The classpath of Kafka's broker, tools and Java client; throws with the reason when there is none. */
export function kafkaClasspath(): string {
  const reason = apacheKafkaMissingReason();
  if (reason !== null) throw new Error(reason);
  return readFileSync(CLASSPATH_FILE, 'utf8').trim();
}
