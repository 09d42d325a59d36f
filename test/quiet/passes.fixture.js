beforeAll(() => console.log('noise from a hook of a passing file'));
test('passes', () => console.warn('noise from a passing test'));
