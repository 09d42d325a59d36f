beforeAll(() => console.log('set-up output of a failing file'));
test('passes first', () => console.log('output of the passing test before'));
test('fails', () => {
  console.error('output of the failing test');
  expect(1).toBe(2);
});
