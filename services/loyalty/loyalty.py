"""The loyalty service: a micrologic in Python behind a Shoal sidecar (standard library only).

On OrderShipped it awards one point per whole unit of the order's total (PointsAwarded); on PaymentRefunded of
a shipped order it takes them back (PointsRevoked). It keeps nothing itself: balances and orders live in the
sidecar's state, read over HTTP and changed in the answer to each delivery, which the sidecar commits with the
delivery's inbox row and the emitted events in one transaction.

    PORT                the micrologic's HTTP port (default 3007)
    HOST                its listen address (default 127.0.0.1)
    SHOAL_SIDECAR_URL   where its sidecar's API is (default http://127.0.0.1:3507)

GET /customers/{id}/points answers the balance and its history.
"""
import json
import os
import re
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote


def setting(name, default, check):
    value = os.environ.get(name, '').strip() or default
    problem = check(value)
    if problem is not None:
        print(f'loyalty: {name}={value!r}: {problem}', file=sys.stderr)
        sys.exit(2)
    return value


def port_problem(value):
    return None if value.isdigit() and 0 <= int(value) <= 65535 else 'expected a port number (0-65535)'


def url_problem(value):
    return None if re.match(r'^https?://[^\s/]+', value) else 'expected an http(s) URL'


PORT = int(setting('PORT', '3007', port_problem))
HOST = setting('HOST', '127.0.0.1', lambda value: None)
SIDECAR = setting('SHOAL_SIDECAR_URL', 'http://127.0.0.1:3507', url_problem).rstrip('/')


# region state
def read_state(key):
    """The value under `key` in the sidecar's state and its ETag, or (None, None) when there is none."""
    try:
        with urllib.request.urlopen(f'{SIDECAR}/v1/state/{quote(key)}', timeout=5) as response:
            return json.load(response), response.headers['ETag']
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None, None
        raise
# endregion state


def change(key, value, etag):
    """A state entry of an answer, written only if the key is still at `etag` (None: only if it is still absent)."""
    return {'key': key, 'value': value, 'etag': etag}


# region order-shipped
def order_shipped(data, attributes):
    order_id, customer_id = data['orderId'], data['customerId']
    order, order_etag = read_state(f'order/{order_id}')
    if order is None:
        return 422, {'detail': f'order {order_id} was never placed'}
    if order.get('shipped'):
        return 204, None
    points = order['total']['amount'] // 100
    customer, customer_etag = read_state(f'customer/{customer_id}')
    customer = customer or {'customerId': customer_id, 'balance': 0, 'history': []}
    customer['balance'] += points
    customer['history'].append({'orderId': order_id, 'points': points, 'kind': 'awarded', 'at': data['shippedAt']})
    order.update(shipped=True, points=points)
    events = [{
        'type': 'shoal.loyalty.PointsAwarded',
        'subject': order_id,
        'data': {'orderId': order_id, 'customerId': customer_id, 'points': points, 'total': order['total'],
                 'balance': customer['balance'], 'awardedAt': data['shippedAt']},
    }]
    # Revoked before it shipped (the refund came first): the points go back at once.
    if order.get('refunded'):
        events.append(revoke(order_id, order, customer, data['shippedAt']))
    state = [change(f'order/{order_id}', order, order_etag), change(f'customer/{customer_id}', customer, customer_etag)]
    return 200, {'events': events, 'state': state}
# endregion order-shipped


def revoke(order_id, order, customer, at):
    points = order['points']
    order['revoked'] = True
    customer['balance'] -= points
    customer['history'].append({'orderId': order_id, 'points': -points, 'kind': 'revoked', 'at': at})
    return {
        'type': 'shoal.loyalty.PointsRevoked',
        'subject': order_id,
        'data': {'orderId': order_id, 'customerId': order['customerId'], 'points': points,
                 'balance': customer['balance'], 'revokedAt': at},
    }


def order_placed(data, attributes):
    order_id = data['orderId']
    order, etag = read_state(f'order/{order_id}')
    order = {**(order or {}), 'customerId': data['customerId'], 'total': data['total']}
    return 200, {'state': [change(f'order/{order_id}', order, etag)]}


def payment_refunded(data, attributes):
    order_id = data['orderId']
    order, order_etag = read_state(f'order/{order_id}')
    order = order or {'customerId': data['customerId']}
    if order.get('refunded'):
        return 204, None
    order['refunded'] = True
    if not order.get('shipped'):
        return 200, {'state': [change(f'order/{order_id}', order, order_etag)]}
    customer, customer_etag = read_state(f'customer/{order["customerId"]}')
    event = revoke(order_id, order, customer, data['refundedAt'])
    state = [change(f'order/{order_id}', order, order_etag), change(f'customer/{order["customerId"]}', customer, customer_etag)]
    return 200, {'events': [event], 'state': state}


DELIVERIES = {
    '/events/order-placed': order_placed,
    '/events/order-shipped': order_shipped,
    '/events/payment-refunded': payment_refunded,
}
CUSTOMER_POINTS = re.compile(r'^/customers/([A-Za-z0-9._~-]{1,100})/points$')


class Handler(BaseHTTPRequestHandler):
    # Keep-alive: the sidecar delivers over a pool of open connections.
    protocol_version = 'HTTP/1.1'

    def do_POST(self):
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length)
        deliver = DELIVERIES.get(self.path)
        if deliver is None:
            return self.answer(404, {'detail': f'no delivery path {self.path}'})
        try:
            data = json.loads(body)
        except ValueError:
            return self.answer(400, {'detail': 'the delivered data is not JSON'})
        attributes = {name[3:]: value for name, value in self.headers.items() if name.lower().startswith('ce-')}
        try:
            status, answer = deliver(data, attributes)
        except (urllib.error.URLError, OSError) as error:
            # The sidecar's state could not be read: a 503 makes the sidecar deliver the event again.
            return self.answer(503, {'detail': f'the sidecar could not be reached: {error}'})
        self.answer(status, answer)

    def do_GET(self):
        if self.path in ('/health', '/health/ready'):
            return self.answer(200, {'status': 'ok'})
        if self.path == '/health/live':
            return self.answer(200, {'status': 'live', 'service': 'loyalty', 'pid': os.getpid()})
        match = CUSTOMER_POINTS.match(self.path)
        if match is None:
            return self.answer(404, {'type': 'urn:shoal:error:SHOAL_NOT_FOUND', 'title': 'Not Found', 'status': 404,
                                     'code': 'SHOAL_NOT_FOUND', 'detail': f'No route GET {self.path}'}, 'application/problem+json')
        customer_id = match.group(1)
        try:
            customer, _ = read_state(f'customer/{customer_id}')
        except (urllib.error.URLError, OSError) as error:
            return self.answer(503, {'type': 'urn:shoal:error:SHOAL_SERVICE_UNAVAILABLE', 'title': 'Service Unavailable', 'status': 503,
                                     'code': 'SHOAL_SERVICE_UNAVAILABLE', 'detail': f'the sidecar could not be reached: {error}'}, 'application/problem+json')
        self.answer(200, customer or {'customerId': customer_id, 'balance': 0, 'history': []})

    def answer(self, status, body, content_type='application/json'):
        payload = b'' if body is None else json.dumps(body).encode()
        self.send_response(status)
        if payload:
            self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format, *args):
        pass


def exit_with_parent():
    """Ends the process when whoever started it (shoal dev) is gone, however it died."""
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


def main():
    threading.Thread(target=exit_with_parent, daemon=True).start()
    server = ThreadingHTTPServer((HOST, PORT), Handler)
    server.daemon_threads = True
    print(json.dumps({'level': 'info', 'service': 'loyalty', 'pid': os.getpid(), 'msg': f'listening on http://{HOST}:{server.server_port}, sidecar {SIDECAR}'}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == '__main__':
    main()
