import { screen, waitFor } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import axe from 'axe-core'
import { describe, expect, it } from 'vitest'
import { me, mockApi, problem } from '../test/api'
import { renderApp } from '../test/render'

const signedOut = () => problem({ type: '/problems/unauthenticated', title: 'Nepřihlášen', status: 401 })
const accepted = () => new Response(null, { status: 202 })
const noContent = () => new Response(null, { status: 204 })

// Labels of the design system's required fields carry a marker; match the label's start.
const field = (label: string) => screen.getByLabelText(new RegExp(`^${label}(\\s*\\*)?$`))

describe('registration', () => {
  it('hints on the client and sends nothing while the passwords are short or differ', async () => {
    const requests = mockApi({ 'GET /api/v1/me': signedOut, 'POST /api/v1/accounts': accepted })
    renderApp('/registrace')

    expect(await screen.findByRole('heading', { level: 1, name: 'Registrace' })).toBeInTheDocument()
    await userEvent.type(field('Jméno a příjmení'), 'Eva Malá')
    await userEvent.type(field('E-mail'), 'eva@example.cz')
    await userEvent.type(field('Heslo'), 'kratke')
    await userEvent.type(field('Heslo znovu'), 'jine')
    await userEvent.click(screen.getByRole('button', { name: 'Založit účet' }))

    expect(await screen.findByText('Formulář obsahuje chyby. Opravte prosím označená pole.')).toBeInTheDocument()
    const password = field('Heslo')
    expect(password).toHaveAttribute('aria-invalid', 'true')
    expect(password).toHaveAccessibleDescription(expect.stringContaining('Heslo zatím má 6 znaků z nejméně 10.'))
    expect(password).toHaveFocus()
    expect(field('Heslo znovu')).toHaveAccessibleDescription('Hesla se neshodují.')
    expect(requests.filter((r) => r.method === 'POST')).toHaveLength(0)
  })

  it("shows the server's verdict on the password next to the field", async () => {
    mockApi({
      'GET /api/v1/me': signedOut,
      'POST /api/v1/accounts': () =>
        problem({
          type: '/problems/weak-password',
          title: 'Heslo je příliš slabé',
          status: 422,
          errors: [{ field: '/password', message: 'Toto heslo je mezi běžně používanými a uniklými hesly.' }],
        }),
    })
    renderApp('/registrace')

    await userEvent.type(await screen.findByLabelText(/^Jméno/), 'Eva Malá')
    await userEvent.type(field('E-mail'), 'eva@example.cz')
    await userEvent.type(field('Heslo'), 'password123')
    await userEvent.type(field('Heslo znovu'), 'password123')
    await userEvent.click(screen.getByRole('button', { name: 'Založit účet' }))

    await waitFor(() => expect(field('Heslo')).toHaveAttribute('aria-invalid', 'true'))
    expect(field('Heslo')).toHaveAccessibleDescription(expect.stringContaining('mezi běžně používanými'))
    expect(field('Heslo')).toHaveFocus()
  })

  it('is accessible, sends the registration and says where the link went', async () => {
    const requests = mockApi({ 'GET /api/v1/me': signedOut, 'POST /api/v1/accounts': accepted })
    const { container } = renderApp('/registrace')

    await screen.findByLabelText(/^Jméno/)
    const results = await axe.run(container, { rules: { 'color-contrast': { enabled: false } } })
    expect(results.violations.map((v) => v.id)).toEqual([])

    await userEvent.type(screen.getByLabelText(/^Jméno/), ' Eva Malá ')
    await userEvent.type(field('E-mail'), 'eva@example.cz')
    await userEvent.type(field('Heslo'), 'zelené jablko 42')
    await userEvent.type(field('Heslo znovu'), 'zelené jablko 42')
    await userEvent.click(screen.getByRole('button', { name: 'Založit účet' }))

    expect(await screen.findByText(/Na adresu eva@example.cz jsme poslali odkaz pro potvrzení/)).toBeInTheDocument()
    const post = requests.find((r) => r.method === 'POST')!
    expect(await post.clone().json()).toEqual({ name: 'Eva Malá', email: 'eva@example.cz', password: 'zelené jablko 42' })
  })
})

describe('e-mail verification', () => {
  it('redeems the link only when asked, then offers the sign-in', async () => {
    const requests = mockApi({ 'GET /api/v1/me': signedOut, 'POST /api/v1/accounts/verify': noContent })
    renderApp('/overeni?token=abc123')

    const confirm = await screen.findByRole('button', { name: 'Potvrdit e-mailovou adresu' })
    expect(requests.filter((r) => r.method === 'POST')).toHaveLength(0)
    await userEvent.click(confirm)

    expect(await screen.findByText('E-mailová adresa je ověřena. Nyní se můžete přihlásit.')).toBeInTheDocument()
    expect(screen.getByRole('link', { name: 'Přihlásit se' })).toHaveAttribute('href', '/prihlaseni')
    expect(await requests.find((r) => r.method === 'POST')!.clone().json()).toEqual({ token: 'abc123' })
  })

  it('explains a used link and offers a new one', async () => {
    const requests = mockApi({
      'GET /api/v1/me': signedOut,
      'POST /api/v1/accounts/verify': () =>
        problem({ type: '/problems/link-used', title: 'Odkaz už byl použit', status: 410, detail: 'Každý odkaz platí jen jednou.' }),
      'POST /api/v1/accounts/verification': accepted,
    })
    renderApp('/overeni?token=abc123')

    await userEvent.click(await screen.findByRole('button', { name: 'Potvrdit e-mailovou adresu' }))
    expect(await screen.findByText('Odkaz už byl použit')).toBeInTheDocument()
    await userEvent.type(field('E-mail'), 'eva@example.cz')
    await userEvent.click(screen.getByRole('button', { name: 'Poslat nový odkaz' }))
    expect(await screen.findByText(/Pokud k adrese eva@example.cz existuje neověřený účet/)).toBeInTheDocument()
    expect(await requests.at(-1)!.clone().json()).toEqual({ email: 'eva@example.cz' })
  })
})

describe('password reset', () => {
  it('asks for a link with the same answer for any address', async () => {
    mockApi({ 'GET /api/v1/me': signedOut, 'POST /api/v1/password-reset': accepted })
    renderApp('/zapomenute-heslo')

    await userEvent.type(await screen.findByLabelText(/^E-mail/), 'kdokoli@example.cz')
    await userEvent.click(screen.getByRole('button', { name: 'Poslat odkaz' }))
    expect(await screen.findByText(/Pokud k adrese kdokoli@example.cz existuje účet/)).toBeInTheDocument()
  })

  it('sets the new password with the token', async () => {
    const requests = mockApi({ 'GET /api/v1/me': signedOut, 'POST /api/v1/password-reset/confirm': noContent })
    renderApp('/obnova-hesla?token=tok-1')

    await userEvent.type(await screen.findByLabelText(/^Nové heslo/), 'zelené jablko 42')
    await userEvent.type(field('Heslo znovu'), 'zelené jablko 42')
    await userEvent.click(screen.getByRole('button', { name: 'Nastavit nové heslo' }))

    expect(await screen.findByText('Heslo bylo změněno. Přihlaste se novým heslem.')).toBeInTheDocument()
    expect(await requests.at(-1)!.clone().json()).toEqual({ token: 'tok-1', password: 'zelené jablko 42' })
  })

  it('explains an expired link and offers a new one', async () => {
    mockApi({
      'GET /api/v1/me': signedOut,
      'POST /api/v1/password-reset/confirm': () =>
        problem({ type: '/problems/link-expired', title: 'Platnost odkazu vypršela', status: 410, detail: 'Nechte si poslat nový odkaz.' }),
    })
    renderApp('/obnova-hesla?token=tok-1')

    await userEvent.type(await screen.findByLabelText(/^Nové heslo/), 'zelené jablko 42')
    await userEvent.type(field('Heslo znovu'), 'zelené jablko 42')
    await userEvent.click(screen.getByRole('button', { name: 'Nastavit nové heslo' }))

    expect(await screen.findByText('Platnost odkazu vypršela')).toBeInTheDocument()
    expect(screen.getByText('Nechte si poslat nový odkaz.')).toBeInTheDocument()
    expect(screen.getByRole('link', { name: 'Požádat o nový odkaz' })).toHaveAttribute('href', '/zapomenute-heslo')
    expect(screen.queryByRole('button', { name: 'Nastavit nové heslo' })).not.toBeInTheDocument()
  })
})

describe('password change', () => {
  it('shows a wrong current password at its field, then changes it with the CSRF token', async () => {
    let calls = 0
    const requests = mockApi({
      'GET /api/v1/me': me([]),
      'PUT /api/v1/me/password': () =>
        ++calls === 1
          ? problem({
              type: '/problems/wrong-password',
              title: 'Současné heslo není správné',
              status: 403,
              errors: [{ field: '/currentPassword', message: 'Současné heslo není správné.' }],
            })
          : noContent(),
    })
    renderApp('/ucet/heslo')

    expect(await screen.findByRole('heading', { level: 1, name: 'Změna hesla' })).toBeInTheDocument()
    await userEvent.type(field('Současné heslo'), 'spatne-heslo')
    await userEvent.type(field('Nové heslo'), 'zelené jablko 42')
    await userEvent.type(field('Heslo znovu'), 'zelené jablko 42')
    await userEvent.click(screen.getByRole('button', { name: 'Změnit heslo' }))

    await waitFor(() => expect(field('Současné heslo')).toHaveAttribute('aria-invalid', 'true'))
    expect(field('Současné heslo')).toHaveAccessibleDescription('Současné heslo není správné.')
    expect(field('Současné heslo')).toHaveFocus()

    await userEvent.clear(field('Současné heslo'))
    await userEvent.type(field('Současné heslo'), 'demo-heslo-2026')
    await userEvent.click(screen.getByRole('button', { name: 'Změnit heslo' }))
    expect(await screen.findByText('Heslo bylo změněno. Ostatní přihlášení byla ukončena.')).toBeInTheDocument()
    const put = requests.filter((r) => r.method === 'PUT').at(-1)!
    expect(put.headers.get('X-CSRF-Token')).toBe('csrf-123')
    expect(await put.clone().json()).toEqual({ currentPassword: 'demo-heslo-2026', newPassword: 'zelené jablko 42' })
  })
})

describe('sign-in page', () => {
  it('links to the forgotten password and the registration, and helps an unverified account', async () => {
    mockApi({
      'GET /api/v1/me': signedOut,
      'POST /api/v1/session': () =>
        problem({
          type: '/problems/email-not-verified',
          title: 'E-mailová adresa zatím není ověřena',
          status: 403,
          detail: 'Otevřete odkaz, který jsme vám poslali e-mailem, nebo si nechte poslat nový.',
        }),
    })
    renderApp('/prihlaseni')

    expect(await screen.findByRole('link', { name: 'Zapomněli jste heslo?' })).toHaveAttribute('href', '/zapomenute-heslo')
    expect(screen.getByRole('link', { name: 'Založit účet' })).toHaveAttribute('href', '/registrace')
    await userEvent.type(screen.getByLabelText(/E-mail/), 'eva@example.cz')
    await userEvent.type(screen.getByLabelText(/Heslo/), 'zelené jablko 42')
    await userEvent.click(screen.getByRole('button', { name: 'Přihlásit se' }))

    expect(await screen.findByText('E-mailová adresa zatím není ověřena')).toBeInTheDocument()
    expect(screen.getByRole('link', { name: 'Poslat nový ověřovací odkaz' })).toHaveAttribute('href', '/overeni')
  })
})
