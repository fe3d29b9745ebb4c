// The redis-server fixture of @strata/websocket's tests (a real server on 127.0.0.1, a free port,
// stopped after the test): one implementation for both test suites.
export { type RedisServer, startRedis } from '../../../packages/websocket/test/_redis';
