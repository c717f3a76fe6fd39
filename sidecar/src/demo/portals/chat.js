// The mock Kustomer Chat, loaded by the app's pages from the mock Kustomer portal's
// origin. As the real widget is told who the user is: it fetches a token from the app's
// widget route (same origin, with the app's cookies), then hands it to the chat service
// (`Kustomer.login({ jwtToken })`), here the mock portal's /chat/login, which checks it.
// Signed out, the route answers 401 and the chat stays anonymous.
(() => {
  const script = document.currentScript;
  const chat = new URL(script.src).origin;
  const status = document.getElementById(script.dataset.status);
  const show = (text) => {
    status.textContent = text;
  };

  const start = async () => {
    const answer = await fetch(script.dataset.tokenUrl, { credentials: 'same-origin' });
    if (answer.status === 401) {
      show('Chat: anonymous');
      return;
    }
    if (!answer.ok) {
      show(`Chat: anonymous (the widget route answered ${answer.status})`);
      return;
    }
    const { token } = await answer.json();
    const login = await fetch(`${chat}/chat/login`, {
      method: 'POST',
      credentials: 'omit',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jwtToken: token }),
    });
    const result = await login.json();
    if (login.ok) {
      show(`Chat: signed in as ${result.email}`);
    } else {
      show(`Chat: anonymous (the chat refused the token: ${result.error})`);
    }
  };

  start().catch((error) => show(`Chat: unavailable (${error})`));
})();
